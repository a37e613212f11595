"""Calibration of Homework 4's two benchmarks (the VAE and the GAN on 8x8 digits).

Trains each benchmark's recipe with the reference solution's components, outside the sandbox
(the same worker code a grader runs, with a guard that forbids nothing), and measures it with
the trusted half, exactly as grading does:

- the spread over seeds: ``--seeds`` runs with the development secret's split and training
  order, each with another torch seed (initialisation and the student's noise: what a correct
  submission that draws from the RNG in another order changes);
- the spread over course secrets: ``--secrets`` runs, each with another held-out split and
  training order (the reference's own value moves with the secret; the credit is relative);
- determinism: the first run again, compared value for value and tensor for tensor;
- the floor: components that learn nothing (losses with no gradient);
- for the GAN, the frozen classifier of each split (its accuracy on the training images it never
  saw, and what real digits score), and the reference's hinge losses in the same recipe (the spec grades the
  non-saturating pair; the recipe takes either by role);
- the benchmark mutants of ``tests/mutants/hw4_benchmark`` (a VAE loss without KL, the
  reparameterisation without the 0.5, a generator loss of the wrong sign, a discriminator
  loss without its fake term), over ``--mutant-seeds`` seeds.

Prints one line per run and a summary, and writes JSON (CPU seconds of training, from the
recipe's own count, so a busy machine slows the wall clock only).

    AUTOGRADER_DATA=../shared/data .venv/bin/python benchmarks/hw4_calibration.py \
        --json benchmarks/results/hw4_calibration.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import torch

from autograder.spec.load import load_assignment
from autograder.trusted.metrics import class_entropy, mean_confidence
from autograder.trusted.recipes import gan as gan_recipe
from autograder.wire.transforms import unit_pixels

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

REFERENCE = ROOT / "reference_solutions" / "hw4.py"
MUTANTS = ROOT / "tests" / "mutants" / "hw4_benchmark"

# Components that learn nothing: every loss is zero with a zero gradient.
FLOOR = """
def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    return 0.0 * (recon.sum() + mu.sum() + logvar.sum())


def d_loss_bce(real_logits, fake_logits):
    return 0.0 * (real_logits.sum() + fake_logits.sum())


def g_loss_nonsaturating(fake_logits):
    return 0.0 * fake_logits.sum()
"""


class Bench(SecretBench):
    """One benchmark task of the spec, runnable with any module, seed and secret."""

    def run(
        self,
        module: types.ModuleType,
        seed_offset: int,
        secret: int = 0,
        components: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        start = time.perf_counter()
        outputs, facts, trained = self.train(module, seed_offset, secret, components=components)
        values = self.recipe.measure(trained)
        return {
            "seed_offset": seed_offset,
            "secret": secret,
            **values,
            "train_cpu_seconds": facts["train_seconds"],
            "wall_seconds": round(time.perf_counter() - start, 3),
            "digest": outputs_digest(outputs),
        }


def classifier_report(bench: Bench, secret: int) -> dict[str, float]:
    """The GAN's frozen classifier for one split: trained on the held-out third, it labels the
    training images (never seen); and what real digits score on the two metrics."""
    splits, _ = bench.secret_data(secret)
    held = unit_pixels(splits.held_out["images"], splits.info)
    weights = gan_recipe.train_classifier(held, splits.held_out["labels"], 10)
    probs = gan_recipe.class_probabilities(
        weights, unit_pixels(splits.train["images"], splits.info)
    )
    return {
        "secret": secret,
        "accuracy_on_training_images": float(
            (probs.argmax(1) == splits.train["labels"]).double().mean()
        ),
        "confidence": mean_confidence(probs),
        "class_entropy": class_entropy(probs),
    }


def _stats(runs: list[dict[str, Any]], metric: str) -> dict[str, float]:
    return spread([r[metric] for r in runs])


def _line(label: str, run: dict[str, Any], metrics: tuple[str, ...]) -> None:
    shown = ", ".join(f"{m} {run[m]:.4f}" for m in metrics)
    print(f"  {label:<28} {shown}, train {run['train_cpu_seconds']:.2f} s CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--secrets", type=int, default=4)
    parser.add_argument("--mutant-seeds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = load_assignment("hw4").spec
    reference_text = REFERENCE.read_text(encoding="utf-8")
    reference = module_from_source(reference_text, "hw4")
    floor = module_from_source(apply_overlay(reference_text, FLOOR), "hw4_floor")
    mutants = overlay_modules("hw4", reference_text, MUTANTS)
    summary: dict[str, Any] = {
        "machine": machine_line(),
        "benchmarks": {},
    }
    for task_id, prefix in (("benchmark-vae", "vae_"), ("benchmark-gan", "gan_")):
        bench = Bench(spec, task_id)
        metrics = bench.recipe.produces
        print(f"{task_id}: recipe {bench.check.recipe}, params {bench.params.model_dump()}")
        seeds = []
        for i in range(args.seeds):
            seeds.append(bench.run(reference, i))
            _line(f"reference, seed +{i}", seeds[-1], metrics)
        again = bench.run(reference, 0)
        deterministic = {k: again[k] for k in (*metrics, "digest")} == {
            k: seeds[0][k] for k in (*metrics, "digest")
        }
        print(f"  seed +0 again: identical = {deterministic}")
        secrets = []
        for s in range(1, args.secrets + 1):
            secrets.append(bench.run(reference, 0, secret=s))
            _line(f"reference, secret {s}", secrets[-1], metrics)
        hinge, classifier = [], []
        if task_id == "benchmark-gan":
            for s in range(args.secrets + 1):
                classifier.append(classifier_report(bench, s))
                c = classifier[-1]
                print(
                    f"  classifier, secret {s}: {c['accuracy_on_training_images']:.2%} of the "
                    f"training images right; real digits score confidence "
                    f"{c['confidence']:.4f}, class_entropy {c['class_entropy']:.4f}"
                )
            # the same recipe with the other pair of losses the homework asks for
            roles = {"d_loss": "d_loss_hinge", "g_loss": "g_loss_hinge"}
            for i in range(args.mutant_seeds):
                hinge.append(bench.run(reference, i, components=roles))
                _line(f"reference hinge, seed +{i}", hinge[-1], metrics)
        floors = [bench.run(floor, i) for i in range(args.mutant_seeds)]
        for i, run in enumerate(floors):
            _line(f"no learning, seed +{i}", run, metrics)
        broken: dict[str, list[dict[str, Any]]] = {}
        for name, module in mutants.items():
            if not name.startswith(prefix):
                continue
            broken[name] = [bench.run(module, i) for i in range(args.mutant_seeds)]
            for i, run in enumerate(broken[name]):
                _line(f"{name}, seed +{i}", run, metrics)
        summary["benchmarks"][task_id] = {
            "recipe": bench.check.recipe,
            "params": bench.params.model_dump(),
            "deterministic": deterministic,
            "seeds": {m: _stats(seeds, m) for m in metrics},
            "secrets": {m: _stats(secrets, m) for m in metrics},
            "floor": {m: _stats(floors, m) for m in metrics},
            "hinge_losses": {m: _stats(hinge, m) for m in metrics} if hinge else None,
            "classifier": classifier or None,
            "mutants": {
                name: {m: _stats(runs, m) for m in metrics} for name, runs in broken.items()
            },
            "train_cpu_seconds": _stats(seeds, "train_cpu_seconds"),
            "runs": {"seeds": seeds, "again": again, "secrets": secrets, "floor": floors}
            | ({"hinge_losses": hinge} if hinge else {})
            | {name: runs for name, runs in broken.items()},
        }
        for m in metrics:
            s = summary["benchmarks"][task_id]["seeds"][m]
            print(
                f"  {m}: seeds mean {s['mean']:.4f}, stdev {s['stdev']:.4f}, "
                f"range {s['min']:.4f}..{s['max']:.4f}"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
