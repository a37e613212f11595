"""Spread and floors of the Homework 3 benchmarks, from the reference solution.

- sentiment (recipe ``bag``) and NER (recipe ``crf_tagger``): the reference components trained
  over several initialisation seeds and training orders (the first twice, to check determinism),
  measured by the trusted recipes on the held-out part; the benchmark mutants
  (tests/mutants/hw3_benchmark) give the floor;
- translation (recipe ``beam``): the grader's translator (fixture, built once) decodes the
  benchmark's held-out sources (the course secret's order, as graded) with the reference beam
  search, and with greedy decoding (beam 1), with no length penalty, and with the mutant that
  ignores it; BLEU and the verified fraction as the trusted side measures them. The decoding is deterministic, so its spread is zero; the band
  covers float-level differences between correct implementations only.

    AUTOGRADER_DATA=../shared/data python benchmarks/hw3_calibration.py --seeds 5 \
        --json benchmarks/results/hw3_calibration.json

Figures are CPU seconds (one thread): the shared development VM's wall clock is not a measure.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from recipe_runs import ROOT, Calibration, import_overlay, import_reference  # noqa: E402

MUTANTS = ROOT / "tests" / "mutants" / "hw3_benchmark"


def _mutant(name: str) -> Any:
    return import_overlay("hw3", MUTANTS / f"{name}.py")


def trained_runs(task: str, check: str, metric: str, mutant: str, seeds: int, data: str | None):
    cal = Calibration("hw3", task, check, data)
    reference = import_reference("hw3")
    seeded = cal.seed_runs(reference, seeds, metric, task)
    broken = cal.run(_mutant(mutant))
    print(f"{task} mutant {mutant}: {metric} {broken['values'][metric]:.4f}", flush=True)
    return {
        "params": cal.header["params"],
        "runs": seeded["runs"],
        **seeded[metric],
        "deterministic": seeded["deterministic"],
        "mutant": {mutant: broken["values"][metric]},
        "cpu_seconds": seeded["train_cpu_seconds"],
    }


def translation(data: str | None) -> dict[str, Any]:
    """Decode the held-out sources exactly as the benchmark does (its order, its first
    ``sentences``), with the reference, greedy, no length penalty and the mutant; each variant is
    verified against its own parameters, except the mutant, which claims to use the spec's."""
    t0 = time.process_time()
    cal = Calibration("hw3", "benchmark-translation", "beam", data)
    setup_cpu = time.process_time() - t0
    reference = import_reference("hw3")
    variants = {
        "reference": (reference, {}),
        "greedy (beam 1)": (reference, {"beam_size": 1}),
        "no length penalty": (reference, {"length_penalty": 0.0}),
        "mutant beam_ignores_length_penalty": (_mutant("beam_ignores_length_penalty"), {}),
    }
    out: dict[str, Any] = {
        "setup_cpu_seconds (data, translator fixture)": round(setup_cpu, 2),
        "translator": (cal.header.get("fixtures") or {}).get("translator"),
    }
    # Calibration exposes the held-out sources in the course secret's order, as the engine does
    for name, (module, change) in variants.items():
        run = cal.run(module, params={**cal.header["params"], **change})
        values, cpu = run["values"], run["train_cpu_seconds"]
        out[name] = {**values, "decode_cpu_seconds": round(cpu, 2)}
        print(
            f"translation {name}: bleu {values['bleu']:.4f}, verified "
            f"{values['verified']:.2%}, decode {cpu:.1f} s CPU",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--data", help="data root (default: AUTOGRADER_DATA)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    summary = {
        "machine": f"{platform.machine()}, 1 torch thread, shared 2-core VM (CPU seconds)",
        "torch": torch.__version__,
        "sentiment": trained_runs(
            "benchmark-sentiment", "bag", "accuracy", "unk_vocabulary", args.seeds, args.data
        ),
        "ner": trained_runs(
            "benchmark-ner", "crf-tagger", "span_f1", "crf_without_partition", args.seeds, args.data
        ),
        "translation": translation(args.data),
    }
    for name in ("sentiment", "ner"):
        s = summary[name]
        print(
            f"{name}: mean {s['mean']:.4f} stdev {s['stdev']:.4f} min {s['min']:.4f} "
            f"max {s['max']:.4f} deterministic {s['deterministic']}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
