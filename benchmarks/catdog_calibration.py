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
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from recipe_runs import (  # noqa: E402
    ROOT,
    Calibration,
    import_overlay,
    import_reference,
    machine_line,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--data", help="data root (default: AUTOGRADER_DATA)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cal = Calibration("hw1", "benchmark-catdog", "mlp", args.data)
    reference = import_reference("hw1")
    seeded = cal.seed_runs(reference, args.seeds, "accuracy", "catdog")
    mutants = {}
    for overlay in sorted((ROOT / "tests" / "mutants" / "hw1_benchmark").glob("*.py")):
        mutants[overlay.stem] = cal.run(import_overlay("hw1", overlay))["values"]["accuracy"]
        print(f"mutant {overlay.stem}: accuracy {mutants[overlay.stem]:.4f}")
    summary = {
        "machine": machine_line(),
        "params": cal.header["params"],
        **seeded,
        "mutants": mutants,
    }
    print(json.dumps({k: v for k, v in summary.items() if k not in ("runs",)}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
