"""Run-to-run spread of Homework 2's two benchmarks, built from the reference solution.

Segmentation: trains the spec's U-Net recipe with the reference's UNet and dice loss over
several initialisation seeds and training orders (the first twice, to check determinism),
measures each with the grader's functional U-Net on the held-out masks, then the floor (an
untrained network: what a student gets for training nothing) and the benchmark mutants
(tests/mutants/hw2_benchmark/dice_*). The spec's ``tolerance`` and ``floor`` come from this.

Compression: builds the grader's CNN fixture (timed, its held-out accuracy measured), runs the
reference's ``compress`` over several calibration draws, and the compression mutants; prints
the accuracy drop, the non-zero weights and the latency ratio of each.

CPU seconds are this process's (one torch thread); the machine may be shared, which slows the
wall clock more than the CPU count. JSON goes to ``--json`` (default
benchmarks/results/hw2_calibration.json).

    AUTOGRADER_DATA=../shared/data python benchmarks/hw2_calibration.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from recipe_runs import ROOT, Calibration, import_overlay, import_reference  # noqa: E402

from autograder.trusted import fixtures  # noqa: E402
from autograder.trusted.metrics import accuracy  # noqa: E402
from autograder.wire import arch, modules  # noqa: E402
from autograder.wire.transforms import standardise_images  # noqa: E402

MUTANTS = ROOT / "tests" / "mutants" / "hw2_benchmark"


def segmentation(seeds: int, data: str | None) -> dict:
    cal = Calibration("hw2", "benchmark-segmentation", "unet", data)
    reference = import_reference("hw2")
    seeded = cal.seed_runs(reference, seeds, "mean_iou", "segmentation")
    untrained = cal.run(reference, params={**cal.header["params"], "epochs": 1, "lr": 1e-12})
    print(f"segmentation floor (lr 1e-12): mean IoU {untrained['values']['mean_iou']:.4f}")
    mutants = {}
    for overlay in sorted(MUTANTS.glob("dice_*.py")):
        mutants[overlay.stem] = cal.run(import_overlay("hw2", overlay))["values"]["mean_iou"]
        print(f"segmentation mutant {overlay.stem}: mean IoU {mutants[overlay.stem]:.4f}")
    return {
        "params": cal.header["params"],
        **seeded,
        "untrained_mean_iou": untrained["values"]["mean_iou"],
        "mutants": mutants,
    }


def compression(draws: int, data: str | None) -> dict:
    cal = Calibration("hw2", "benchmark-compression", "compress", data)
    # the fixture, built afresh once to time it (the Calibration read it from the cache)
    start = time.process_time()
    fixture = fixtures.fixture("catdog_cnn").build(cal.splits)
    build_cpu = time.process_time() - start
    net = modules.build(arch.architecture(fixture.info["layers"]), fixture.tensors)
    images = standardise_images(cal.splits.held_out["images"], cal.splits.info)
    with torch.no_grad():
        predictions = torch.cat([net(images[i : i + 500]).argmax(1) for i in range(0, 2000, 500)])
    fixture_accuracy = accuracy(predictions, cal.splits.held_out["labels"])
    print(f"fixture catdog_cnn: held-out accuracy {fixture_accuracy:.4f}, {build_cpu:.1f} s CPU")
    reference = import_reference("hw2")
    runs = [cal.run(reference, order=str(i)) for i in range(draws)]
    for i, run in enumerate(runs):
        v = run["values"]
        print(
            f"compress draw {i}: drop {v['accuracy_drop']:+.4f}, non-zero {v['weight_density']:.4f}, "
            f"latency x{v['latency_ratio']:.2f}, {run['train_cpu_seconds']:.2f} s CPU"
        )
    mutants = {}
    for overlay in sorted(MUTANTS.glob("compress_*.py")):
        mutants[overlay.stem] = cal.run(import_overlay("hw2", overlay))["values"]
        v = mutants[overlay.stem]
        print(
            f"compress mutant {overlay.stem}: drop {v['accuracy_drop']:+.4f}, "
            f"non-zero {v['weight_density']:.4f}"
        )
    return {
        "fixture_accuracy": fixture_accuracy,
        "fixture_build_cpu_seconds": round(build_cpu, 2),
        "fixture_matches_cache": all(
            torch.equal(fixture.tensors[k], v) for k, v in cal.fixtures["catdog_cnn"][0].items()
        ),
        "runs": runs,
        "mutants": mutants,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--data", help="data root (default: AUTOGRADER_DATA)")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "hw2_calibration.json"
    )
    parser.add_argument("--only", choices=["segmentation", "compression"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    summary: dict = {
        "machine": f"{platform.machine()}, 1 torch thread, {platform.processor() or 'cpu'}",
        "torch": torch.__version__,
    }
    if args.only != "compression":
        summary["segmentation"] = segmentation(args.seeds, args.data)
    if args.only != "segmentation":
        summary["compression"] = compression(args.draws, args.data)
    brief = {
        part: {k: v for k, v in body.items() if k != "runs"}
        for part, body in summary.items()
        if isinstance(body, dict)
    }
    print(json.dumps(brief, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
