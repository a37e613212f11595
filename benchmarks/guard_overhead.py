"""What the runtime forbidden-API guard costs on Homework 1's probes, before and after.

Run from the repository root::

    python benchmarks/guard_overhead.py [--rounds 7] [--before REV] [--json out.json]

Runs every numerical probe of Homework 1 on the reference solution in this process (no worker,
no fork: only the guard differs), task by task, under three guards:

- ``none``: each task's guard built for an empty forbid list (off);
- ``before``: ``autograder/untrusted/guard.py`` as it was at ``--before`` (default: the commit
  before the dispatch mode was added; a profile hook and a TorchFunctionMode);
- ``after``: the guard as it is now (hook, function mode, dispatch mode, its own state checks).

Rounds interleave the three (this VM's speed drifts by tens of percent over minutes); the
medians per task and in total are printed, and the guard's share: (guarded - none).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from autograder.spec.course import Course  # noqa: E402
from autograder.spec.load import load_assignment  # noqa: E402
from autograder.trusted.execute import plan_tensors  # noqa: E402
from autograder.trusted.plan import build_plan  # noqa: E402
from autograder.untrusted import guard as guard_now  # noqa: E402
from autograder.untrusted.runners import run_probe  # noqa: E402

BEFORE = "7eba3bf^"  # the last commit with the hook-and-function-mode guard


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _show(rev: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _old_guard(rev: str) -> Any:
    """The guard module at ``rev``, with the forbid-name tables of that revision too."""
    folder = Path(tempfile.mkdtemp())
    (folder / "apis_before.py").write_text(_show(rev, "autograder/wire/apis.py"))
    _load(folder / "apis_before.py", "apis_before")
    text = _show(rev, "autograder/untrusted/guard.py")
    text = text.replace("from autograder.wire import apis", "import apis_before as apis")
    (folder / "guard_before.py").write_text(text)
    module = _load(folder / "guard_before.py", "guard_before")
    module.warm_names()
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec = load_assignment("hw1", Course(ROOT)).spec
    tasks = [t for t in spec.tasks if not t.is_benchmark]
    plan = build_plan(spec, include={t.id for t in tasks})
    tensors = plan_tensors(plan, [t.id for t in tasks])
    reference = _load(ROOT / "reference_solutions" / "hw1.py", "hw1_reference")
    before = _old_guard(args.before)
    guard_now.warm_names()
    guards = {
        "none": lambda forbid: guard_now.Guard([]),
        "before": lambda forbid: before.Guard(forbid),
        "after": lambda forbid: guard_now.Guard(forbid, source=reference.__file__),
    }
    times: dict[str, dict[str, list[float]]] = {k: {t.id: [] for t in tasks} for k in guards}
    for _ in range(args.rounds):
        for kind, make in guards.items():
            for task in tasks:
                guard = make(list(task.forbid))
                start = time.perf_counter()
                for probe in plan.tasks[task.id]:
                    guard.violations = []
                    header = {**probe.header, "id": probe.id}
                    run_probe(reference, header, tensors, guard)  # inputs are cloned inside
                    assert not guard.violations, (kind, task.id, guard.violations)
                times[kind][task.id].append(time.perf_counter() - start)
    medians = {
        k: {t: statistics.median(v) * 1000 for t, v in per.items()} for k, per in times.items()
    }
    print(f"{'task':16s} {'none ms':>9s} {'before ms':>10s} {'after ms':>9s}")
    for task in tasks:
        row = [medians[k][task.id] for k in guards]
        print(f"{task.id:16s} {row[0]:9.1f} {row[1]:10.1f} {row[2]:9.1f}")
    totals = {k: sum(v.values()) for k, v in medians.items()}
    print(f"{'total':16s} {totals['none']:9.1f} {totals['before']:10.1f} {totals['after']:9.1f}")
    print(
        f"guard's share: before {totals['before'] - totals['none']:.1f} ms, "
        f"after {totals['after'] - totals['none']:.1f} ms per submission "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    if args.json:
        meta = {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_average": os.getloadavg(),
            "rounds": args.rounds,
        }
        args.json.write_text(json.dumps({"meta": meta, "medians_ms": medians}, indent=2) + "\n")


if __name__ == "__main__":
    main()
