"""Run-to-run spread of the Homework 1 benchmark recipe built from the reference solution.

Trains the spec's MLP recipe with the reference components for several seeds (and one seed
twice, to check determinism), prints accuracy and time per run, and writes JSON. The spec's
``tolerance`` (full credit at reference - tolerance) is chosen from this spread.

    AUTOGRADER_DATA=../shared/data python benchmarks/catdog_calibration.py --seeds 5 --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from autograder.data import load_catdog
from autograder.spec.load import load_assignment
from autograder.trusted.plan import build_plan
from autograder.untrusted.bench import run_benchmark
from autograder.untrusted.guard import Guard

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    loaded = load_assignment("hw1")
    task = next(t for t in loaded.spec.tasks if t.is_benchmark)
    probe = build_plan(loaded.spec, include={task.id}).tasks[task.id][0]
    spec = importlib.util.spec_from_file_location("hw1", ROOT / "reference_solutions" / "hw1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = load_catdog()
    tensors = {
        "data|train_images": data.train_images,
        "data|train_labels": data.train_labels,
        "data|test_images": data.test_images,
    }
    runs = []
    seeds = [probe.header["seed"] + i for i in range(args.seeds)] + [probe.header["seed"]]
    for seed in seeds:
        t0 = time.perf_counter()
        out, facts = run_benchmark(module, {**probe.header, "seed": seed}, tensors, Guard([]))
        acc = float((out["predictions"] == data.test_labels).double().mean())
        runs.append(
            {
                "seed": seed,
                "accuracy": acc,
                "train_seconds": facts["train_seconds"],
                "total_seconds": time.perf_counter() - t0,
                "predictions_sha": hash(out["predictions"].numpy().tobytes()),
            }
        )
        print(
            f"seed {seed}: accuracy {acc:.4f}, train {facts['train_seconds']:.2f} s, total {runs[-1]['total_seconds']:.2f} s"
        )
    accs = [r["accuracy"] for r in runs[:-1]]
    summary = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads available, {platform.processor() or 'cpu'}",
        "torch": torch.__version__,
        "recipe": {k: v for k, v in probe.header.items() if k not in ("components",)},
        "runs": runs,
        "mean_accuracy": statistics.mean(accs),
        "stdev_accuracy": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "min_accuracy": min(accs),
        "max_accuracy": max(accs),
        "deterministic": runs[0]["predictions_sha"] == runs[-1]["predictions_sha"],
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
