"""How fast Homework 1 is graded: warm workers against one fresh process per submission.

Run from the repository root (the reference results are computed once and cached first)::

    python benchmarks/grading_speed.py [--n 12] [--rounds 3] [--bench-n 2] [--workers N]
        [--batch 32] [--only all|scaling] [--json out.json]

It takes 4-8 minutes on 2 cores (``--bench-n 0`` skips the benchmark task's runs, ``--only
scaling`` runs only the throughput rounds).

Submissions alternate between ``reference_solutions/hw1.py`` and ``examples/hw1_student.py``.
What is measured, each in the same run on the same machine:

- warm: one ``Grader`` (warm zygote, cached reference) grading submission after submission;
  numerical tasks only, and with the cat-vs-dog benchmark task (``--bench-n`` submissions);
- fresh: ``python -m autograder check hw1 FILE --skip-benchmarks --json`` in a new process per
  submission (what a pytest-per-submission grader pays), and the ratio fresh / warm. The warm
  batch runs in ``--rounds`` parts with one fresh process (and the bare baselines below) after
  each, so the ratios compare measurements taken side by side: this VM's speed drifts by
  tens of percent over minutes;
- overhead: warm wall time minus the time the reports say was spent inside the submission's
  code (the reference's time is cached, so it costs nothing), split into AST scan, fork and
  request, worker time outside the probes (request, confinement, import, guards, frames),
  trusted scoring against the reference, and the rest;
- throughput with 1 worker and with N workers (default: CPU cores), ``--batch`` submissions
  each, in ``--rounds`` rounds; N workers as ``autograder batch`` runs them (one grader
  process per worker) and, for comparison, as N threads of one grader process; the scaling
  ratio: the median over rounds of (N workers / 1 worker), each measured back to back in ABBA
  order (the best round of each, the estimator used before, let one lucky round decide and
  swung from 1.6x to 2.0x between runs on this VM). Each round also runs the same probes in 1
  and in N bare processes that imported torch once (no grader, isolation, guard or
  comparison): what this machine's cores give that compute at that moment, so a VM that does
  not double is told apart from a grader that does not scale;
- peak RSS (VmHWM) of this grader process, of a lane (one per worker in a batch), of a
  zygote, and of one worker child (its own report in the ``done`` frame);
- one ``autograder check`` against a bare ``python -c "import torch"`` and against a bare
  process that imports torch and runs the same probes with no grader around them.

Timings on a machine that other work is loading are noisy: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import autograder.trusted.engine as engine  # noqa: E402
from autograder.batch.lanes import grader_for  # noqa: E402
from autograder.report import Report  # noqa: E402
from autograder.spec.load import LoadedAssignment, load_assignment  # noqa: E402
from autograder.trusted.supervisor import RunResult, Zygote  # noqa: E402

REFERENCE = ROOT / "reference_solutions" / "hw1.py"
STUDENT = ROOT / "examples" / "hw1_student.py"


# -- instrumentation (wraps engine functions; changes nothing they do) ---------------------------
class Probe:
    """Wall time spent in wrapped engine steps, and the worker frames of every run."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.runs: list[dict[str, Any]] = []

    def timed(self, name: str, fn: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    def install(self) -> None:
        engine._parse_submission = self.timed("scan", engine._parse_submission)
        engine.forbidden.scan_tree = self.timed("scan", engine.forbidden.scan_tree)
        engine.execute = self.timed("run", engine.execute)
        engine.Grader._score_task = self.timed("scoring", engine.Grader._score_task)
        original_run = Zygote.run

        def run(zygote: Zygote, *args: Any, **kwargs: Any) -> RunResult:
            result = original_run(zygote, *args, **kwargs)
            facts: dict[str, Any] = {"seconds": result.seconds, "ending": result.ending}
            for header, _ in result.frames:
                if header.get("type") in ("hello", "done"):
                    facts.update({k: v for k, v in header.items() if k != "type"})
            self.runs.append(facts)
            return result

        Zygote.run = run  # type: ignore[method-assign]

    def reset(self) -> dict[str, float]:
        spent, self.spent = self.spent, {}
        return spent


PROBE = Probe()


# -- helpers ---------------------------------------------------------------------------------
def items(n: int) -> list[tuple[str, Path]]:
    return [(f"s{i:03d}", REFERENCE if i % 2 == 0 else STUDENT) for i in range(n)]


def student_seconds(report: Report) -> float:
    return sum(task.seconds for task in report.tasks)


def vm_kb(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


# -- measurements ----------------------------------------------------------------------------
def warm_sequential(
    loaded: LoadedAssignment,
    n: int,
    *,
    skip_benchmarks: bool,
    between: Callable[[], None] | None = None,
    rounds: int = 1,
) -> dict[str, Any]:
    """Grade n submissions one after another on one warm slot; per-submission wall and overhead.

    With ``rounds`` > 1 the n submissions are split into rounds and ``between`` runs after
    each (the fresh-process and bare baselines): the machine's speed drifts over minutes, and
    the ratios compare measurements taken side by side.
    """
    started = time.perf_counter()
    with engine.Grader(loaded, workers=1, skip_benchmarks=skip_benchmarks) as grader:
        startup = time.perf_counter() - started
        if not skip_benchmarks and any(
            t.is_benchmark for t in grader.spec.tasks if t.id in grader.skipped
        ):
            return {"unavailable": "; ".join(sorted(set(grader.skipped.values())))}
        # untimed grades: costs paid once per process are not per-submission. Numerical
        # batches warm up to a long batch's steady state, past the zygote's one-off huge-page
        # collapse after its 8th fork (about 0.5 s, which would land in one timed submission)
        for _ in range(9 if skip_benchmarks else 1):
            grader.grade(REFERENCE)
        PROBE.reset()
        PROBE.runs.clear()
        walls, inside, scores = [], [], []
        spent: dict[str, float] = {}
        todo = items(n)
        per_round = -(-n // max(1, rounds))
        while todo:
            batch, todo = todo[:per_round], todo[per_round:]
            for _, path in batch:
                start = time.perf_counter()
                report = grader.grade(path)
                walls.append(time.perf_counter() - start)
                inside.append(student_seconds(report))
                scores.append(report.score)
            for key, value in PROBE.reset().items():
                spent[key] = spent.get(key, 0.0) + value
            if between is not None:
                between()
        zygote = grader._all_zygotes[0]
        zygote_kb = vm_kb(zygote.pid, "VmHWM") if zygote.pid else None
    runs = list(PROBE.runs)
    overhead = [w - s for w, s in zip(walls, inside, strict=True)]
    run_seconds = sum(r["seconds"] for r in runs)
    return {
        "n": n,
        "rounds": rounds,
        "startup_s": startup,
        "wall_s": walls,
        "inside_s": inside,
        "scores": scores,
        "per_submission_s": median(walls),
        "mean_s": statistics.mean(walls),
        "overhead_ms": median(overhead) * 1000,
        "overhead_mean_ms": statistics.mean(overhead) * 1000,
        "breakdown_ms": {
            # parsing the file and the forbidden-API scan
            "ast_scan": spent.get("scan", 0.0) / n * 1000,
            # the request to the (pre-forked) child; its fork and cgroup happen after the last run
            "fork_and_request": (spent.get("run", 0.0) - run_seconds) / n * 1000,
            # request written -> last result read, minus probe time: import, guards, frames
            "worker_outside_probes": (run_seconds - sum(inside)) / n * 1000,
            # comparisons against the cached reference (KS tests on 131,072 samples, ...)
            "trusted_scoring": spent.get("scoring", 0.0) / n * 1000,
            # reading and hashing the file, staging, waiting for the last run's teardown, report
            "other": (sum(walls) - sum(spent.get(k, 0.0) for k in ("scan", "run", "scoring")))
            / n
            * 1000,
        },
        "child_threads": sorted({r.get("threads") for r in runs if r.get("threads") is not None}),
        "child_peak_rss_kb": max((r.get("peak_rss_kb") or 0 for r in runs), default=0) or None,
        "zygote_peak_rss_kb": zygote_kb,
    }


def cpu_ticks() -> tuple[int, int]:
    """Machine-wide (all, idle + iowait) clock ticks since boot, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields), fields[3] + fields[4]


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many cores were busy on average between two ``cpu_ticks`` readings."""
    total, idle = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * (1 - idle / total) if total > 0 else float("nan")


def throughput(
    loaded: LoadedAssignment, n: int, workers: int, rounds: int, ceiling: BarePool | None = None
) -> dict[str, Any]:
    """Batches of n on 1 worker and on ``workers``, in rounds (this VM's speed drifts).

    ``workers`` runs what ``autograder batch --workers N`` runs: one grader process per worker
    (lanes); ``threads`` is one grader process with N worker threads, for comparison. Each
    round measures the three back to back, in ABBA order (1, lanes, threads in even rounds,
    the reverse in odd ones) so that a steady drift favours none. With ``ceiling`` the same
    round also runs the same probes in 1 and in ``workers`` bare processes (no grader): how
    far this machine scales that compute at that moment.
    """
    graders: dict[str, Any] = {
        "1": grader_for(loaded, workers=1, skip_benchmarks=True),
        str(workers): grader_for(loaded, workers=workers, skip_benchmarks=True),
        "threads": engine.Grader(loaded, workers=workers, skip_benchmarks=True),
    }
    sizes = {"1": 1, str(workers): workers, "threads": workers}
    per_minute: dict[str, list[float]] = {k: [] for k in graders}
    busy: dict[str, list[float]] = {k: [] for k in graders}
    bare_per_minute: dict[int, list[float]] = {1: [], workers: []}
    lane_kb: list[int] = []
    try:
        for key, grader in graders.items():
            grader.__enter__()
            # the steady state of a long batch: every slot warm, its spare forked, and its
            # zygote past the one-off huge-page collapse (after its 8th fork)
            list(grader.grade_many(items(10 * sizes[key])))
        for r in range(rounds):
            order = list(graders) if r % 2 == 0 else list(reversed(graders))
            for key in order:
                before = cpu_ticks()
                start = time.perf_counter()
                done = list(graders[key].grade_many(items(n)))
                wall = time.perf_counter() - start
                busy[key].append(busy_cores(before, cpu_ticks()))
                assert all(isinstance(rep, Report) for _, rep in done), done
                per_minute[key].append(n / wall * 60)
            if ceiling is not None:
                for w in (1, workers) if r % 2 == 0 else (workers, 1):
                    bare_per_minute[w].append(n / ceiling.run(n, w) * 60)
        for lane in getattr(graders[str(workers)], "lanes", []):
            lane_kb.append(vm_kb(lane.proc.pid, "VmHWM") or 0)
    finally:
        for grader in graders.values():
            grader.__exit__(None, None, None)
    out: dict[str, Any] = {
        key: {
            "workers": sizes[key],
            "n": n,
            "rounds_per_minute": v,
            "per_minute": median(v),
            "busy_cores": median(busy[key]),
        }
        for key, v in per_minute.items()
    }
    out["lane_peak_rss_kb"] = max(lane_kb, default=None)
    if ceiling is not None:
        out["bare"] = {
            str(w): {"workers": w, "n": n, "rounds_per_minute": v, "per_minute": median(v)}
            for w, v in bare_per_minute.items()
        }
    return out


_BARE_LOOP = """
import importlib.util, json, sys, time
import torch
from safetensors.torch import load_file
from autograder.untrusted.guard import Guard
from autograder.untrusted.runners import run_probe
torch.set_num_threads(1)
headers = json.load(open(sys.argv[1]))
tensors = load_file(sys.argv[2])
modules = []
for i, path in enumerate(sys.argv[3:]):
    spec = importlib.util.spec_from_file_location(f"hw1_{i}", path)
    modules.append(importlib.util.module_from_spec(spec))
    spec.loader.exec_module(modules[-1])
def one(module):
    for header in headers:
        try:
            run_probe(module, header, tensors, Guard([]))
        except Exception:
            pass
for module in modules:
    one(module)
print("ready", flush=True)
for line in sys.stdin:
    first, count = (int(v) for v in line.split())
    for i in range(first, first + count):
        one(modules[i % len(modules)])
    print("done", flush=True)
"""


def probe_files(loaded: LoadedAssignment, folder: Path) -> tuple[Path, Path]:
    """The numerical tasks' probe headers (JSON) and input tensors (safetensors) in ``folder``."""
    from safetensors.torch import save_file

    from autograder.trusted.plan import build_plan

    plan = build_plan(loaded.spec, include={t.id for t in loaded.spec.tasks if not t.is_benchmark})
    headers, tensors = [], {}
    for probes in plan.tasks.values():
        for probe in probes:
            headers.append({**probe.header, "id": probe.id})
            tensors.update(probe.tensors)
    (folder / "headers.json").write_text(json.dumps(headers))
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / "inputs.safetensors"))
    return folder / "headers.json", folder / "inputs.safetensors"


class BarePool:
    """Processes that have imported torch and the submissions, and run the probes on demand.

    The scaling ceiling: the same compute as a warm batch with no grader, no isolation, no
    guard and no comparison, in 1 or in N processes at once.
    """

    def __init__(self, loaded: LoadedAssignment, size: int, folder: Path) -> None:
        headers, inputs = probe_files(loaded, folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        argv = [sys.executable, "-c", _BARE_LOOP, str(headers), str(inputs)]
        argv += [str(path) for _, path in items(2)]
        self.procs = [
            subprocess.Popen(
                argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(size)
        ]
        for proc in self.procs:
            if proc.stdout is None or proc.stdout.readline().strip() != "ready":
                raise SystemExit("a bare probe process failed to start")

    def run(self, n: int, size: int) -> float:
        """Wall seconds for ``size`` processes to run n submissions' probes between them."""
        share = [n // size + (1 if i < n % size else 0) for i in range(size)]
        start = time.perf_counter()
        first = 0
        for proc, count in zip(self.procs, share, strict=False):
            assert proc.stdin is not None
            proc.stdin.write(f"{first} {count}\n")
            proc.stdin.flush()
            first += count
        for proc, _ in zip(self.procs, share, strict=False):
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "done":
                raise SystemExit("a bare probe process died")
        return time.perf_counter() - start

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=30)


def fresh_check(path: Path, *, skip_benchmarks: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "autograder", "check", "hw1", str(path), "--json"]
    if skip_benchmarks:
        cmd.append("--skip-benchmarks")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    inside = sum(t["seconds"] for t in report["tasks"])
    return {
        "wall_s": wall,
        "score": report["score"],
        "inside_s": inside,
        "report_s": report["seconds"],
    }


_BARE = """
import importlib.util, json, sys, time
import torch
from safetensors.torch import load_file
from autograder.untrusted.guard import Guard
from autograder.untrusted.runners import run_probe
torch.set_num_threads(1)
headers = json.load(open(sys.argv[2]))
tensors = load_file(sys.argv[3])
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("hw1", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for header in headers:
    try:
        run_probe(module, header, tensors, Guard([]))
    except Exception:
        pass
print(time.perf_counter() - start)
"""


def bare(loaded: LoadedAssignment, repeat: int) -> dict[str, Any]:
    """`python -c "import torch"`, and a bare process that runs the same probes with no grader.

    The bare process imports torch and the submission and calls every probe once, with no
    isolation, no forbidden-API guard and no comparison: the least any checker must spend.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    imports, computes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        headers, inputs = probe_files(loaded, Path(tmp))
        for _, path in items(repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True)
            imports.append(time.perf_counter() - start)
            start = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _BARE,
                    str(path),
                    str(headers),
                    str(inputs),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            computes.append(
                (time.perf_counter() - start, float(out.stdout.strip().splitlines()[-1]))
            )
    return {
        "import_torch_s": median(imports),
        "bare_with_compute_s": median([w for w, _ in computes]),
        "compute_s": median([c for _, c in computes]),
    }


# -- output ----------------------------------------------------------------------------------
def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("[green]yes[/]" if ok else "[red]no[/]")


def render(results: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"Homework 1 grading speed ({results['machine']['cpu_count']} CPUs, torch {results['machine']['torch']})"
    )
    for col in ("measure", "value", "target", "met"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    t = results["targets"]
    if "warm" in results:
        render_speed(results, table)
    tp, scaling = results["throughput"], t["scaling"]
    n = tp["n"]["workers"]
    for key, label in (
        ("1", "1 worker"),
        ("n", f"{n} workers (a process each, as batch runs)"),
        ("threads", f"{n} worker threads in one process"),
    ):
        if key in tp:
            table.add_row(
                f"throughput, {label} (median; cores busy {tp[key]['busy_cores']:.2f})",
                f"{tp[key]['per_minute']:.1f} / min",
                "",
                "",
            )
    ratios = scaling["rounds"]
    table.add_row(
        f"scaling (median of {len(ratios)} rounds, {min(ratios):.2f}-{max(ratios):.2f})",
        f"{scaling['value']:.2f}x",
        ">= 1.8x",
        verdict(scaling["met"]),
    )
    bare = scaling["bare_rounds"]
    table.add_row(
        f"  same probes, bare processes, 1 -> {n} ({min(bare):.2f}-{max(bare):.2f})",
        f"{scaling['bare_ceiling']:.2f}x",
        "",
        "",
    )
    table.add_row(
        "  grader scaling / bare scaling (median)", f"{scaling['efficiency']:.0%}", "", ""
    )
    if "threads" in scaling:
        table.add_row(
            f"  threads instead: 1 -> {n} (median of rounds)", f"{scaling['threads']:.2f}x", "", ""
        )
    mem = results["memory_kb"]
    for name in ("grader", "lane", "zygote", "worker_child"):
        value = mem.get(name)
        if value:
            table.add_row(f"peak RSS, {name.replace('_', ' ')}", f"{value / 1024:.0f} MiB", "", "")
    table.add_row(
        "load average (start -> end)", f"{results['load'][0]} -> {results['load'][1]}", "", ""
    )
    console.print(table)


def render_speed(results: dict[str, Any], table: Table) -> None:
    warm, fresh, chk, t = results["warm"], results["fresh"], results["check"], results["targets"]
    table.add_row(
        "warm, numerical tasks: s per submission", f"{warm['per_submission_s']:.3f}", "", ""
    )
    table.add_row("fresh process per submission: s", f"{fresh['per_submission_s']:.3f}", "", "")
    table.add_row(
        "fresh / warm", f"{t['speedup']['value']:.1f}x", ">= 10x", verdict(t["speedup"]["met"])
    )
    table.add_row(
        "overhead per submission (wall - inside code)",
        f"{warm['overhead_ms']:.0f} ms",
        "< 100 ms",
        verdict(t["overhead"]["met"]),
    )
    for name, ms in warm["breakdown_ms"].items():
        table.add_row(f"  {name.replace('_', ' ')}", f"{ms:.0f} ms", "", "")
    bench = results.get("warm_benchmark") or {}
    if "per_submission_s" in bench:
        table.add_row(
            "warm, with benchmark task: s per submission",
            f"{bench['per_submission_s']:.2f}",
            "",
            "",
        )
    elif bench:
        table.add_row("warm, with benchmark task", bench.get("unavailable", "not run")[:60], "", "")
    if results.get("fresh_benchmark"):
        table.add_row(
            "fresh, with benchmark task: s per submission",
            f"{results['fresh_benchmark']['per_submission_s']:.2f}",
            "",
            "",
        )
    table.add_row("autograder check, one file: s", f"{chk['check_s']:.2f}", "", "")
    table.add_row('bare python -c "import torch": s', f"{chk['import_torch_s']:.2f}", "", "")
    table.add_row(
        "bare import torch + the same probes: s", f"{chk['bare_with_compute_s']:.2f}", "", ""
    )
    table.add_row(
        "check - bare (import + probes)",
        f"{t['check']['value']:+.2f} s",
        "<= 1 s",
        verdict(t["check"]["met"]),
    )


def measure_speed(
    loaded: LoadedAssignment, args: argparse.Namespace, results: dict[str, Any], console: Console
) -> None:
    """Warm against fresh, the overhead, `check` against bare, and the benchmark task."""
    console.print(
        f"warm batch, numerical tasks, in {args.rounds} rounds, each followed by one fresh "
        "process and the bare baselines ..."
    )
    fresh: list[dict[str, Any]] = []
    imports: list[float] = []
    computes: list[float] = []

    def baselines() -> None:
        path = items(len(fresh) + 1)[-1][1]
        fresh.append(fresh_check(path, skip_benchmarks=True))
        b = bare(loaded, 1)
        imports.append(b["import_torch_s"])
        computes.append(b["bare_with_compute_s"])

    results["warm"] = warm_sequential(
        loaded, args.n, skip_benchmarks=True, between=baselines, rounds=args.rounds
    )
    results["fresh"] = {"runs": fresh, "per_submission_s": median([f["wall_s"] for f in fresh])}
    results["check"] = {
        "import_torch_s": median(imports),
        "bare_with_compute_s": median(computes),
        "check_s": results["fresh"]["per_submission_s"],
    }
    if args.bench_n > 0:
        console.print(f"warm batch with the benchmark task ({args.bench_n} submissions) ...")
        results["warm_benchmark"] = warm_sequential(loaded, args.bench_n, skip_benchmarks=False)
        if "per_submission_s" in results["warm_benchmark"]:
            console.print("fresh process with the benchmark task ...")
            runs = [fresh_check(REFERENCE, skip_benchmarks=False)]
            results["fresh_benchmark"] = {
                "runs": runs,
                "per_submission_s": median([r["wall_s"] for r in runs]),
            }


def round_ratios(many: dict[str, Any], one: dict[str, Any]) -> list[float]:
    pairs = zip(many["rounds_per_minute"], one["rounds_per_minute"], strict=True)
    return [m / o for m, o in pairs]


def targets(results: dict[str, Any], workers: int) -> dict[str, Any]:
    """The issue's four targets, from whatever parts were measured."""
    out: dict[str, Any] = {}
    if "warm" in results:
        warm, chk = results["warm"], results["check"]
        speedup = results["fresh"]["per_submission_s"] / warm["per_submission_s"]
        extra = chk["check_s"] - chk["bare_with_compute_s"]
        out["speedup"] = {"value": speedup, "target": 10, "met": speedup >= 10}
        out["overhead"] = {
            "value": warm["overhead_ms"],
            "target": 100,
            "met": warm["overhead_ms"] < 100,
            "without_scoring": warm["overhead_ms"] - warm["breakdown_ms"]["trusted_scoring"],
        }
        out["check"] = {"value": extra, "target": 1.0, "met": extra <= 1.0}
    tp = results["throughput"]
    ratios = round_ratios(tp["n"], tp["1"])
    threads = round_ratios(tp["threads"], tp["1"]) if "threads" in tp else None
    ceiling = round_ratios(tp["bare"]["n"], tp["bare"]["1"])
    # per round: the grader's scaling over what bare processes reached in the same round
    efficiency = [r / c for r, c in zip(ratios, ceiling, strict=True)]
    out["scaling"] = {
        "value": median(ratios),
        "rounds": ratios,
        "target": 1.8,
        "met": median(ratios) >= 1.8 if workers >= 2 else None,
        "bare_ceiling": median(ceiling),
        "bare_rounds": ceiling,
        "efficiency": median(efficiency),
    }
    if threads:
        out["scaling"]["threads"] = median(threads)
        out["scaling"]["threads_rounds"] = threads
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=12, help="submissions per warm batch (default 12)")
    parser.add_argument(
        "--bench-n", type=int, default=2, help="warm submissions with the benchmark task (0: skip)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="workers for the scaling run"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds: each a warm batch, one fresh process and the bare baselines; and "
        "throughput rounds, each 1 worker and N workers back to back (the median ratio is kept)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=32,
        help="submissions per throughput batch (default 32: short batches overstate the tail "
        "where one worker waits for the other)",
    )
    parser.add_argument(
        "--only",
        choices=("all", "scaling"),
        default="all",
        help="'scaling': only the throughput rounds and their bare ceiling (about 2 minutes)",
    )
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    console = Console()
    os.chdir(ROOT)
    PROBE.install()
    loaded = load_assignment("hw1")
    results: dict[str, Any] = {
        "machine": machine(),
        "load": [load()],
        "args": {k: str(v) for k, v in vars(args).items()},
    }

    if args.only == "all":
        measure_speed(loaded, args, results, console)
    console.print(
        f"throughput with 1 and {args.workers} workers, and the same probes in bare processes ..."
    )
    with tempfile.TemporaryDirectory() as tmp:
        ceiling = BarePool(loaded, args.workers, Path(tmp))
        try:
            tp = throughput(loaded, args.batch, args.workers, args.rounds, ceiling)
        finally:
            ceiling.close()
    results["throughput"] = {
        "1": tp["1"],
        "n": tp[str(args.workers)],
        "threads": tp["threads"],
        "bare": {"1": tp["bare"]["1"], "n": tp["bare"][str(args.workers)]},
    }
    results["load"].append(load())

    results["targets"] = targets(results, args.workers)
    warm = results.get("warm", {})
    results["memory_kb"] = {
        "grader": vm_kb("self", "VmHWM"),
        "zygote": warm.get("zygote_peak_rss_kb"),
        "worker_child": warm.get("child_peak_rss_kb"),
        "lane": tp["lane_peak_rss_kb"],
    }
    render(results, console)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        os.replace(tmp, args.json)
        console.print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
