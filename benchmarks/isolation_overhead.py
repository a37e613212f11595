"""Per-submission cost of worker isolation, on top of the warm worker's fork.

Runs the same honest submission through two warm zygotes, one with no isolation beyond rlimits
and one boxed with every layer that works here (``AUTOGRADER_SANDBOX_DISABLE`` narrows it), in
interleaved rounds, and prints medians. Also times the zygote start with and without bubblewrap
and the trusted-side steps of a boxed run (stage + confine dict, cgroup admit, release), and the
parts added against same-uid attacks and starvation: the seccomp filter's cost per system call,
a run cgroup with and without the cpu hierarchies, reading a run's CPU time, the zygote's health
check.

    .venv/bin/python benchmarks/isolation_overhead.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from autograder import sandbox
from autograder.spec.models import Limits
from autograder.trusted.supervisor import Zygote

SOURCE = "import torch\n\ndef sigmoid(x):\n    return 1 / (1 + torch.exp(-x))\n"
LIMITS = Limits(memory_mb=1024, processes=32, scratch_mb=16)
X = torch.randn(3, 4)


def _request(path: str, confine: dict) -> dict:
    probe = {
        "id": "a/1/0",
        "kind": "forward",
        "symbol": "sigmoid",
        "call": "function",
        "args": [{"t": "x", "grad": True}],
        "kwargs": {},
        "seed": 1,
    }
    return {
        "path": path,
        "module_name": "hw1",
        "threads": 1,
        "confine": confine,
        "tasks": [{"id": "a", "forbid": [], "probes": [probe]}],
    }


class _Timed:
    """Wraps a Slot method to record how long each call takes."""

    def __init__(self, slot: sandbox.Slot, name: str, into: list[float]) -> None:
        self.inner, self.into = getattr(slot, name), into
        setattr(slot, name, self)

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.into.append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    start = time.perf_counter()
    caps = sandbox.probe()
    probe_s = time.perf_counter() - start
    print(f"probe: {probe_s * 1000:.0f} ms; active layers: {', '.join(caps.active_names)}")

    with tempfile.TemporaryDirectory() as tmp:
        student = Path(tmp, "hw1.py")
        student.write_text(SOURCE)
        scratch = Path(tmp, "scratch")
        plain_confine = {
            "scratch": str(scratch),
            "cpu_seconds": 600,
            "memory_bytes": 8 << 30,
            "file_bytes": 16 << 20,
            "open_files": 256,
        }
        t0 = time.perf_counter()
        plain = Zygote(threads=1).start()
        t1 = time.perf_counter()
        slot = sandbox.Slot(caps, scratch_mb=LIMITS.scratch_mb)
        boxed = Zygote(threads=1, slot=slot).start()
        t2 = time.perf_counter()
        print(
            f"zygote start: plain {t1 - t0:.2f} s, boxed {t2 - t1:.2f} s (torch import dominates)"
        )

        timings: dict[str, list[float]] = {
            "plain": [],
            "boxed": [],
            "prepare": [],
            "admit": [],
            "release": [],
        }
        _Timed(slot, "admit", timings["admit"])
        _Timed(slot, "release", timings["release"])
        deltas = []
        for round_no in range(args.rounds + 2):
            order = [("plain", plain), ("boxed", boxed)]
            if round_no % 2:
                order.reverse()
            this_round = {}
            for name, zygote in order:
                began = time.perf_counter()
                if name == "boxed":
                    prepared = slot.prepare(LIMITS, student)
                    timings["prepare"].append(time.perf_counter() - began)
                    request = _request(prepared.path, prepared.confine)
                else:
                    request = _request(str(student), plain_confine)
                result = zygote.run(request, {"x": X}, task_seconds={"a": 30}, total_seconds=60)
                assert result.ending == "done", (
                    name,
                    result.ending,
                    result.detail,
                    result.output_text,
                )
                this_round[name] = time.perf_counter() - began
            if round_no >= 2:  # the first rounds warm caches
                for name, seconds in this_round.items():
                    timings[name].append(seconds)
                deltas.append(this_round["boxed"] - this_round["plain"])
        plain.close()
        boxed.close()
        slot.close()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.1f} ms"

    print(f"per submission, median of {args.rounds} interleaved rounds:")
    print(f"  plain run (fork, rlimits, import, probe): {ms(timings['plain'])}")
    print(f"  boxed run (all active layers):            {ms(timings['boxed'])}")
    print(f"  isolation overhead (median of deltas):    {ms(deltas)}")
    print(
        f"    trusted side: prepare {ms(timings['prepare'])}, cgroup admit {ms(timings['admit'])}, release {ms(timings['release'])}"
    )


_SYSCALL_LOOP = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from autograder.sandbox import layers, seccomp
def per_call():
    n = 200_000
    start = time.perf_counter_ns()
    for _ in range(n):
        os.getppid()
    return (time.perf_counter_ns() - start) / n
per_call()
before = min(per_call() for _ in range(5))
layers._no_new_privs()
seccomp.install()
after = min(per_call() for _ in range(5))
print(before, after)
"""


def _seccomp_cost() -> tuple[float, float]:
    """ns per ``getppid()`` from Python, before and after installing the filter (best of 5)."""
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", _SYSCALL_LOOP, root], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def _cgroup_join_ms(support, rounds: int = 15) -> float:
    """Median ms to create a run group and move a fresh process into it."""
    import os
    import signal

    from autograder.sandbox import cgroups

    times = []
    for i in range(rounds):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        start = time.perf_counter()
        group = cgroups.RunGroup(support, f"{os.getpid()}-bench{i}", 256 << 20, 16)
        group.join(pid)
        times.append(time.perf_counter() - start)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        group.remove()
    return statistics.median(times) * 1000


def components(caps: sandbox.Capabilities) -> None:
    """The cost of each part added against same-uid attacks and starvation."""
    from dataclasses import replace

    if caps.active("seccomp"):
        before, after = _seccomp_cost()
        print(f"seccomp: getppid() from Python {before:.0f} -> {after:.0f} ns per call")
    support = caps.cgroup
    if support is not None:
        line = f"cgroup create + join: {_cgroup_join_ms(support):.1f} ms"
        if support.cpu is not None or support.cpuacct is not None:
            bare = replace(support, dirs=support.dirs[: 1 if support.version == 2 else 2])
            bare = replace(bare, cpu=None, cpuacct=None)
            line += f" (memory and pids only: {_cgroup_join_ms(bare):.1f} ms)"
        print(line)
    slot = sandbox.Slot(caps, scratch_mb=LIMITS.scratch_mb, insecure=True)
    with Zygote(threads=1, slot=slot) as zygote:
        child = zygote._fork({"cgroup": {"memory_bytes": 256 << 20, "pids": 16}})
        reads = []
        for _ in range(200):
            start = time.perf_counter()
            slot.cpu_seconds()
            reads.append(time.perf_counter() - start)
        checks = []
        for _ in range(50):
            start = time.perf_counter()
            assert zygote.health_problem() is None
            checks.append(time.perf_counter() - start)
        if child is not None:
            child.close()
    slot.close()
    print(
        f"a run's CPU time, one read: {statistics.median(reads) * 1e6:.0f} us; "
        f"Zygote.health_problem(): {statistics.median(checks) * 1e6:.0f} us"
    )


if __name__ == "__main__":
    main()
    components(sandbox.probe())
