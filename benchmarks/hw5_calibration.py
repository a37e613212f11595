"""Calibration of Homework 5's benchmark: SimCLR on unlabelled MNIST digits, judged by a linear
probe.

Trains the ``simclr`` recipe with the reference solution's ``nt_xent_loss``, outside the sandbox
(the same worker code a grader runs, with a guard that forbids nothing), and measures it with the
trusted half (the grader's encoder, the logistic-regression probe), exactly as grading does:

- the spread over seeds: ``--seeds`` runs with the development secret's split and training
  order, each with another torch seed (the encoder's initialisation: what a correct submission
  whose float rounding differs from the reference's does to the trajectory, at worst);
- the spread over course secrets: ``--secrets`` runs, each with another held-out split, training
  order and augmentation draws (the reference's own value moves with the secret; credit is
  relative to the reference run under the same secret);
- determinism: the first run again, compared value for value and tensor for tensor;
- the floor: the randomly initialised encoder, untrained (a loss that is 0 with a 0 gradient, so
  Adam never moves a weight), over ``--mutant-seeds`` initialisations;
- the benchmark mutants of ``tests/mutants/hw5_benchmark`` (no temperature, positives off by
  one, self-similarity not masked), over ``--mutant-seeds`` seeds;
- the correct alternatives of ``tests/mutants/hw5_alternatives`` (the same loss written another
  way) under the reference's own seed and secret: how far float rounding alone moves a correct
  submission from the reference, which is what the credit's tolerance must absorb;
- for context, the same probe on the raw pixels (no encoder at all).

Prints one line per run and a summary, and writes JSON (CPU seconds of training, from the
recipe's own count, so a busy machine slows the wall clock only).

    AUTOGRADER_DATA=../shared/data .venv/bin/python benchmarks/hw5_calibration.py \
        --json benchmarks/results/hw5_calibration.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

import torch

from autograder.spec.load import load_assignment
from autograder.trusted.linear_probe import probe_accuracy
from autograder.wire.transforms import standardise_images

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from mutants.overlay import apply_overlay  # noqa: E402
from recipe_runs import (  # noqa: E402
    SecretBench,
    machine_line,
    module_from_source,
    outputs_digest,
    overlay_modules,
    spread,
)

REFERENCE = ROOT / "reference_solutions" / "hw5.py"
MUTANTS = ROOT / "tests" / "mutants" / "hw5_benchmark"
ALTERNATIVES = ROOT / "tests" / "mutants" / "hw5_alternatives"
TASK = "benchmark-probe"
METRIC = "probe_accuracy"

# A loss that teaches nothing: 0 with a 0 gradient, so the encoder keeps its random weights.
FLOOR = """
def nt_xent_loss(z1, z2, temperature=0.5):
    return 0.0 * (z1.sum() + z2.sum())
"""


class Bench(SecretBench):
    """The spec's benchmark task, runnable with any module, seed and secret."""

    def __init__(self, spec: Any) -> None:
        super().__init__(spec, TASK)

    def pixels(self, secret: int = 0) -> float:
        """The probe on the standardised raw pixels of the split (no encoder)."""
        splits, _ = self.secret_data(secret)
        held, info = splits.held_out, splits.info
        return probe_accuracy(
            standardise_images(held["train_images"], info).flatten(1),
            held["train_labels"],
            standardise_images(held["images"], info).flatten(1),
            held["labels"],
            l2=self.params.probe_l2,
            iterations=self.params.probe_iterations,
        )

    def run(
        self, module: types.ModuleType, seed_offset: int, secret: int = 0, epochs: int = 0
    ) -> dict[str, Any]:
        """One training and measurement; ``epochs`` (when not 0) overrides the spec's."""
        start = time.perf_counter()
        change = {"epochs": epochs} if epochs else None
        outputs, facts, trained = self.train(module, seed_offset, secret, params=change)
        measure_start = time.process_time()
        values = self.recipe.measure(trained)
        curve = outputs["curve.loss"].tolist()
        return {
            "seed_offset": seed_offset,
            "secret": secret,
            **values,
            "train_cpu_seconds": facts["train_seconds"],
            "measure_cpu_seconds": round(time.process_time() - measure_start, 3),
            "wall_seconds": round(time.perf_counter() - start, 3),
            "first_loss": round(curve[0], 4),
            "last_loss": round(curve[-1], 4),
            "digest": outputs_digest(outputs),
        }


def _stats(runs: list[dict[str, Any]], key: str = METRIC) -> dict[str, float]:
    return spread([r[key] for r in runs])


def _line(label: str, run: dict[str, Any]) -> None:
    print(
        f"  {label:<32} probe accuracy {run[METRIC]:.2%}, loss {run['first_loss']:.3f} -> "
        f"{run['last_loss']:.3f}, train {run['train_cpu_seconds']:.2f} s CPU, measure "
        f"{run['measure_cpu_seconds']:.2f} s CPU",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--secrets", type=int, default=3)
    parser.add_argument("--mutant-seeds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = load_assignment("hw5").spec
    reference_text = REFERENCE.read_text(encoding="utf-8")
    reference = module_from_source(reference_text, "hw5")
    floor = module_from_source(apply_overlay(reference_text, FLOOR), "hw5_floor")
    mutants = overlay_modules("hw5", reference_text, MUTANTS)
    alternatives = overlay_modules("hw5", reference_text, ALTERNATIVES)
    bench = Bench(spec)
    print(f"{TASK}: recipe {bench.check.recipe}, params {bench.params.model_dump()}")
    seeds = []
    for i in range(args.seeds):
        seeds.append(bench.run(reference, i))
        _line(f"reference, seed +{i}", seeds[-1])
    again = bench.run(reference, 0)
    keys = (METRIC, "digest", "last_loss")
    deterministic = {k: again[k] for k in keys} == {k: seeds[0][k] for k in keys}
    print(f"  seed +0 again: identical = {deterministic}")
    secrets = []
    for s in range(1, args.secrets + 1):
        secrets.append(bench.run(reference, 0, secret=s))
        _line(f"reference, secret {s}", secrets[-1])
    # Adam never moves a weight whose gradient is always 0: one epoch shows the same encoder
    floors = [bench.run(floor, i, epochs=1) for i in range(args.mutant_seeds)]
    for i, run in enumerate(floors):
        _line(f"random encoder, seed +{i}", run)
    floor_secrets = [bench.run(floor, 0, s, epochs=1) for s in range(1, args.secrets + 1)]
    for s, run in enumerate(floor_secrets, start=1):
        _line(f"random encoder, secret {s}", run)
    pixels = [bench.pixels(s) for s in range(args.secrets + 1)]
    print(f"  raw pixels (no encoder): {', '.join(f'{p:.2%}' for p in pixels)} (secret 0..)")
    correct = {name: bench.run(module, 0) for name, module in alternatives.items()}
    for name, run in correct.items():
        _line(f"{name} (correct), seed +0", run)
    broken: dict[str, list[dict[str, Any]]] = {}
    for name, module in mutants.items():
        broken[name] = [bench.run(module, i) for i in range(args.mutant_seeds)]
        for i, run in enumerate(broken[name]):
            _line(f"{name}, seed +{i}", run)
    check = bench.check
    credit = check.credit[0]
    reference_value = seeds[0][METRIC]
    full_at = reference_value - credit.tolerance

    def fraction(value: float) -> float:
        return max(0.0, min(1.0, (value - credit.floor) / (full_at - credit.floor)))

    summary: dict[str, Any] = {
        "machine": machine_line(),
        "task": TASK,
        "recipe": check.recipe,
        "dataset": check.dataset,
        "params": bench.params.model_dump(),
        "budget_seconds": check.budget_seconds,
        "credit": credit.model_dump(),
        "deterministic": deterministic,
        "seeds": _stats(seeds),
        "secrets": _stats(secrets),
        "floor": _stats(floors + floor_secrets),
        "raw_pixels": {"by_secret": pixels, "mean": statistics.mean(pixels)},
        "alternatives_at_seed_0": {name: run[METRIC] for name, run in correct.items()},
        "train_cpu_seconds": _stats(seeds + secrets, "train_cpu_seconds"),
        "measure_cpu_seconds": _stats(seeds + secrets, "measure_cpu_seconds"),
        "mutants": {
            name: {
                **_stats(runs),
                "credit_fraction_at_seed_0": round(fraction(runs[0][METRIC]), 4),
            }
            for name, runs in broken.items()
        },
        "runs": {
            "seeds": seeds,
            "again": again,
            "secrets": secrets,
            "floor": floors + floor_secrets,
            "alternatives": correct,
            "mutants": broken,
        },
    }
    print("summary:")
    for key in ("seeds", "secrets", "floor", "train_cpu_seconds"):
        s = summary[key]
        print(
            f"  {key:<18} mean {s['mean']:.4f}, stdev {s['stdev']:.4f}, "
            f"min {s['min']:.4f}, max {s['max']:.4f}"
        )
    print(f"  raw pixels         mean {summary['raw_pixels']['mean']:.4f}")
    for name, value in summary["alternatives_at_seed_0"].items():
        print(f"  {name:<18} {value:.4f} (correct; reference {seeds[0][METRIC]:.4f})")
    for name, s in summary["mutants"].items():
        print(
            f"  {name:<18} mean {s['mean']:.4f} (min {s['min']:.4f}, max {s['max']:.4f}), "
            f"credit at seed +0: {s['credit_fraction_at_seed_0']:.2f} of the benchmark"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
