"""Run-to-run spread of the Homework 1 benchmark recipe built from the reference solution.

Trains the spec's MLP recipe with the reference components over several initialisation seeds
and training orders (and the first one twice, to check determinism), measures each with the
grader's own components on the held-out images, and writes JSON. The spec's ``tolerance``
(full credit at reference - tolerance) is chosen from this spread. Broken components (the
benchmark mutants in tests/mutants/hw1_benchmark) are measured too: the floor must sit above
what they reach.

    AUTOGRADER_DATA=../shared/data python benchmarks/catdog_calibration.py --seeds 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from recipe_runs import ROOT, Calibration, import_overlay, import_reference  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--data", help="data root (default: AUTOGRADER_DATA)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cal = Calibration("hw1", "benchmark-catdog", "mlp", args.data)
    reference = import_reference("hw1")
    runs = []
    for i in [*range(args.seeds), 0]:
        run = cal.run(reference, seed_offset=i, order=str(i))
        runs.append(run)
        print(
            f"seed +{i}: accuracy {run['values']['accuracy']:.4f}, "
            f"train {run['train_cpu_seconds']:.2f} s CPU"
        )
    mutants = {}
    for overlay in sorted((ROOT / "tests" / "mutants" / "hw1_benchmark").glob("*.py")):
        mutants[overlay.stem] = cal.run(import_overlay("hw1", overlay))["values"]["accuracy"]
        print(f"mutant {overlay.stem}: accuracy {mutants[overlay.stem]:.4f}")
    accs = [r["values"]["accuracy"] for r in runs[:-1]]
    summary = {
        "machine": f"{platform.machine()}, 1 torch thread, {platform.processor() or 'cpu'}",
        "torch": torch.__version__,
        "params": cal.header["params"],
        "runs": runs,
        "mean_accuracy": statistics.mean(accs),
        "stdev_accuracy": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "min_accuracy": min(accs),
        "max_accuracy": max(accs),
        "train_cpu_seconds": [r["train_cpu_seconds"] for r in runs],
        "deterministic": runs[0]["outputs_sha256"] == runs[-1]["outputs_sha256"],
        "mutants": mutants,
    }
    print(json.dumps({k: v for k, v in summary.items() if k not in ("runs",)}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
