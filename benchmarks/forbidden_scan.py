"""How long the trusted forbidden-API scan takes on hostile 1 MB files (it must stay linear).

Run from the repository root::

    python benchmarks/forbidden_scan.py [--mb 1.0] [--json out.json]

Each case is a Homework 1 submission padded to about ``--mb`` megabytes with a worst case for
the attribution (each definition reaches everything after it, one helper used by everyone,
nesting as deep as Python's parser takes, thousands of module-level aliases, a chain of classes
whose methods use ``self``), and ends in a forbidden call that the first symbol reaches. For each
case it prints the size, the time to parse, to build the units (``scan_tree``) and to answer
what every check of every Homework 1 task pays (``charges``), and the peak memory of the scan
(tracemalloc, in a second pass). The quadratic closure this replaced took 103 s on a 246 KB chain and did not
finish a 1 MB one in 300 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.spec.course import Course  # noqa: E402
from autograder.spec.load import load_assignment  # noqa: E402
from autograder.trusted import forbidden, pysource  # noqa: E402
from autograder.trusted.raw import Execution  # noqa: E402

REFERENCE = (ROOT / "reference_solutions" / "hw1.py").read_text(encoding="utf-8")
HEAD = REFERENCE.replace("def softmax(z, dim=-1):", "def softmax(z, dim=-1):\n    _c0(z)", 1)


def chain(size: int) -> str:
    """softmax -> _c0 -> _c1 -> ... -> _cN, which calls torch.softmax."""
    lines, i = [], 0
    while sum(map(len, lines)) < size:
        lines.append(f"def _c{i}(x):\n    return _c{i + 1}(x) + x.sum()\n\n\n")
        i += 1
    lines.append(f"def _c{i}(x):\n    return torch.softmax(x, -1)\n")
    return HEAD + "\n\n" + "".join(lines)


def fan_in(size: int) -> str:
    """Thousands of functions that all call one helper, and softmax calls all of them."""
    lines, names = [], []
    while sum(map(len, lines)) < size:
        name = f"_f{len(names)}"
        names.append(name)
        lines.append(f"def {name}(x):\n    return _shared(x) * {len(names)}\n\n\n")
    calls = "\n".join(f"    {n}(z)" for n in names[:2000])
    return (
        HEAD
        + "\n\n"
        + "".join(lines)
        + "def _shared(x):\n    return torch.softmax(x, -1)\n\n\n"
        + f"def _c0(z):\n{calls}\n"
    )


def nesting(size: int) -> str:
    """Functions nested 90 deep (near the parser's limit), over and over."""
    depth = 90
    blocks, i = [], 0
    while sum(map(len, blocks)) < size:
        body = (
            "".join("    " * d + f"def _n{i}_{d}(x):\n" for d in range(depth))
            + "    " * depth
            + "return x\n"
        )
        blocks.append(body + "\n\n")
        i += 1
    return HEAD + "\n\n" + "".join(blocks) + "def _c0(z):\n    return torch.softmax(z, -1)\n"


def aliases(size: int) -> str:
    """Tens of thousands of module-level aliases of torch functions (each one a unit)."""
    lines, i = [], 0
    while sum(map(len, lines)) < size:
        lines.append(f"_a{i} = torch.exp\n")
        i += 1
    return HEAD + "\n\n" + "".join(lines) + "_c0 = torch.softmax\n"


def classes(size: int) -> str:
    """A chain of classes, each deriving from the previous and using self.* in a method."""
    lines, i = ["class _K0:\n    def m(self):\n        return self.softmax\n\n\n"], 1
    while sum(map(len, lines)) < size:
        lines.append(
            f"class _K{i}(_K{i - 1}):\n    def m{i}(self):\n        self.v{i} = 1\n"
            f"        return self.m() + self.v{i}\n\n\n"
        )
        i += 1
    return HEAD + "\n\n" + "".join(lines) + f"def _c0(z):\n    return _K{i - 1}().m{i - 1}()\n"


CASES: dict[str, Callable[[int], str]] = {
    "chain": chain,
    "fan_in": fan_in,
    "nesting": nesting,
    "aliases": aliases,
    "classes": classes,
}


def measure(source: str, spec) -> dict[str, float]:  # noqa: ANN001
    t0 = time.perf_counter()
    tree = pysource.parse(source)
    t1 = time.perf_counter()
    scan = forbidden.scan_tree(tree)
    t2 = time.perf_counter()
    charged = {task.id: forbidden.charges(scan, task, {}, Execution()) for task in spec.tasks}
    t3 = time.perf_counter()
    # memory in a second pass: tracemalloc slows the scan several times over
    tracemalloc.start()
    again = forbidden.scan_tree(tree)
    for task in spec.tasks:
        forbidden.charges(again, task, {}, Execution())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    losses = charged.get("losses", {})
    return {
        "kb": round(len(source.encode()) / 1024),
        "parse_s": round(t1 - t0, 2),
        "scan_s": round(t2 - t1, 2),
        "charges_s": round(t3 - t2, 2),
        "peak_mb": round(peak / 2**20, 1),
        "softmax_charged": "softmax-forward" in losses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    spec = load_assignment("hw1", Course(ROOT)).spec
    size = int(args.mb * 2**20) - len(HEAD)
    results = {}
    print(
        f"{'case':10s} {'KB':>6s} {'parse s':>8s} {'scan s':>7s} {'charges s':>10s} "
        f"{'peak MB':>8s}  softmax charged"
    )
    for name, make in CASES.items():
        row = measure(make(size), spec)
        results[name] = row
        print(
            f"{name:10s} {row['kb']:6d} {row['parse_s']:8.2f} {row['scan_s']:7.2f} "
            f"{row['charges_s']:10.2f} {row['peak_mb']:8.1f}  {row['softmax_charged']}"
        )
    if args.json:
        meta = {"python": platform.python_version(), "machine": platform.machine()}
        args.json.write_text(json.dumps({"meta": meta, "cases": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
