"""Per-run cgroups (v1 or v2): a memory limit with OOM detection, a process cap, a CPU quota,
CPU accounting, kill-all.

Each submission's worker gets its own group, created by the trusted side (root) before the
request is written, so nothing the student runs escapes it: ``pids.max`` binds even uid 0, the
memory limit covers what RLIMIT_AS misses (MAP_SHARED, tmpfs pages), and the OOM counter tells
"memory limit exceeded" apart from a crash. The CPU quota (as many CPUs as the run has threads)
keeps sixty busy processes of one submission from starving the submission on the next lane, and
the group's CPU usage is the run's own CPU time, however many processes it started. v1 is the
hybrid layout (separate ``memory``, ``pids``, ``cpu`` and ``cpuacct`` hierarchies, the last two
often mounted together); v2 is one unified tree with ``memory.max``, ``cpu.max`` and
``cgroup.kill``. The ``cpu`` and ``cpuacct`` controllers are optional: without them a run has no
quota and its CPU time is read from its worker's ``/proc`` entry instead.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path

BASE = "autograder"


CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class Support:
    """Where run groups are made: ``dirs`` holds one base per hierarchy (v1: memory, pids, then
    those of ``cpu`` and ``cpuacct`` where mounted). ``cpu`` is the base whose groups take a
    CPU quota, ``cpuacct`` the one whose groups count CPU time; None when missing."""

    version: int
    dirs: tuple[Path, ...]
    cpu: Path | None = None
    cpuacct: Path | None = None


@dataclass(frozen=True)
class Mount:
    """One cgroup mount: ``kind`` is "cgroup" (v1) or "cgroup2"; ``root`` is the folder of the
    hierarchy mounted at ``point`` (not "/" inside a container without a cgroup namespace)."""

    kind: str
    point: Path
    options: frozenset[str]
    root: str


def mounts(mountinfo: Path = Path("/proc/self/mountinfo")) -> list[Mount]:
    """Every cgroup mount this process sees, from ``mountinfo``."""
    found: list[Mount] = []
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append(Mount(tail[0], Path(fields[4]), frozenset(tail[2].split(",")), fields[3]))
    return found


def detect() -> tuple[Support | None, str]:
    """The usable cgroup layout, or None and the reason it is unusable."""
    if os.geteuid() != 0:
        return None, "needs root (cgroups are not delegated to this user)"
    found = mounts()
    v1 = {opt: m.point for m in found if m.kind == "cgroup" for opt in m.options}
    if "memory" in v1 and "pids" in v1:
        cpu = v1["cpu"] / BASE if "cpu" in v1 else None
        cpuacct = v1["cpuacct"] / BASE if "cpuacct" in v1 else None
        dirs = [v1["memory"] / BASE, v1["pids"] / BASE]
        dirs += [d for d in dict.fromkeys((cpu, cpuacct)) if d is not None]
        return Support(1, tuple(dirs), cpu, cpuacct), ""
    for mount in found:
        if mount.kind != "cgroup2":
            continue
        point = mount.point
        controllers = point / "cgroup.controllers"
        try:
            available = controllers.read_text().split()
        except OSError:
            continue
        if "memory" in available and "pids" in available:
            base = Path(point) / BASE
            # cpu.stat's usage is kept for every v2 group; the quota needs the cpu controller
            return Support(2, (base,), base if "cpu" in available else None, base), ""
    return None, "no writable memory and pids controllers (neither cgroup v1 nor v2)"


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _cpu_weight(support: Support) -> tuple[str, str] | None:
    """The CPU weight file of the runs' parent group and the weight it needs: as many tasks'
    worth as this process may use cores. Every run group sits under one parent, which the
    scheduler weighs as one task by default: under load from outside, all the workers together
    would get one task's share (measured on a loaded 2-core VM: 105 ms more per submission)."""
    if support.cpu is None:
        return None
    cores = len(os.sched_getaffinity(0))
    if support.version == 1:
        return "cpu.shares", str(min(1024 * cores, 262144))
    return "cpu.weight", str(min(100 * cores, 10000))


def _prepare_base(support: Support) -> None:
    for base in support.dirs:
        base.mkdir(mode=0o755, exist_ok=True)
    if support.version == 2:
        wanted = ["memory", "pids"] + (["cpu"] if support.cpu is not None else [])
        root_control = support.dirs[0].parent / "cgroup.subtree_control"
        enabled = root_control.read_text().split()
        missing = [c for c in wanted if c not in enabled]
        if missing:
            _write(root_control, " ".join("+" + c for c in missing))
        _write(support.dirs[0] / "cgroup.subtree_control", " ".join("+" + c for c in wanted))
    weight = _cpu_weight(support)
    if weight is not None and support.cpu is not None:
        path = support.cpu / weight[0]  # v2: exists once the root enabled cpu for it
        try:
            if path.read_text().strip() != weight[1]:
                _write(path, weight[1])
        except OSError:
            pass  # the quota still binds; only the share under outside load is smaller


class RunGroup:
    """One submission's cgroup; ``join`` it before the student's code runs."""

    def __init__(
        self, support: Support, name: str, memory_bytes: int, pids: int, cpus: float = 1.0
    ) -> None:
        self.support = support
        _prepare_base(support)
        self.dirs = tuple(base / name for base in support.dirs)
        self.cpu_dir = support.cpu / name if support.cpu is not None else None
        self.cpuacct_dir = support.cpuacct / name if support.cpuacct is not None else None
        for path in self.dirs:
            path.mkdir(mode=0o755)
        try:
            self._limit(memory_bytes, pids)
            self.limit_cpus(cpus)
        except OSError:
            self.remove()
            raise

    def _limit(self, memory_bytes: int, pids: int) -> None:
        if self.support.version == 1:
            memory, pid_dir = self.dirs[:2]
            _write(memory / "memory.limit_in_bytes", str(memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
            _write(pid_dir / "pids.max", str(pids))
        else:
            (group,) = self.dirs
            _write(group / "memory.max", str(memory_bytes))
            if (group / "memory.swap.max").exists():
                _write(group / "memory.swap.max", "0")
            _write(group / "memory.oom.group", "1")
            _write(group / "pids.max", str(pids))

    def limit_cpus(self, cpus: float) -> None:
        """Let every process of the group together use at most ``cpus`` CPUs (no-op without the
        cpu controller)."""
        if self.cpu_dir is None:
            return
        quota = max(1000, round(cpus * CPU_PERIOD_US))  # the kernel's minimum is 1 ms
        if self.support.version == 1:
            _write(self.cpu_dir / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(self.cpu_dir / "cpu.cfs_quota_us", str(quota))
        else:
            _write(self.cpu_dir / "cpu.max", f"{quota} {CPU_PERIOD_US}")

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process that has been in the group, or None if unknown."""
        if self.cpuacct_dir is None:
            return None
        try:
            if self.support.version == 1:
                return int((self.cpuacct_dir / "cpuacct.usage").read_text()) / 1e9
            for line in (self.cpuacct_dir / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            pass
        return None

    def join(self, pid: int) -> None:
        """Move ``pid`` (and so everything it starts later) into this group."""
        for path in self.dirs:
            _write(path / "cgroup.procs", str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel killed for exceeding this group's memory limit."""
        name = "memory.oom_control" if self.support.version == 1 else "memory.events"
        try:
            text = (self.dirs[0] / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def pids(self) -> list[int]:
        """Processes still in the group (in any of its hierarchies)."""
        found: set[int] = set()
        for path in self.dirs:
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return sorted(found)

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the group until it is empty; False if some survived."""
        deadline = time.monotonic() + timeout
        if self.support.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            _write(self.dirs[0] / "cgroup.kill", "1")
        while True:
            left = self.pids()
            if not left:
                return True
            if time.monotonic() > deadline:
                return False
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)

    def remove(self, timeout: float = 2.0) -> bool:
        """Delete the group (it must be empty; killed processes may take a moment to go)."""
        deadline = time.monotonic() + timeout
        done = True
        for path in self.dirs:
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                        done = False
                        break
                    time.sleep(0.01)
        return done


def trial(support: Support) -> tuple[Support | None, str]:
    """Create, limit and remove a throwaway group: the support as it works here (without the
    cpu controller if its quota cannot be set) and '', or None and the reason."""
    try:
        group = RunGroup(support, f"{os.getpid()}-probe", 256 << 20, 8)
    except OSError as exc:
        if support.cpu is None:
            return None, f"cannot create a cgroup: {exc.strerror or exc}"
        # a kernel without CFS bandwidth control: memory and pids still work
        return trial(replace(support, cpu=None))
    group.remove()
    return support, ""


def sweep_stale(support: Support) -> None:
    """Remove groups left by graders that died (named ``<grader pid>-...``)."""
    for base in support.dirs:
        try:
            entries = list(base.iterdir())
        except OSError:
            continue
        for entry in entries:
            owner = entry.name.split("-", 1)[0]
            if not entry.is_dir() or not owner.isdigit() or Path(f"/proc/{owner}").exists():
                continue
            stale = RunGroup.__new__(RunGroup)
            stale.support, stale.dirs = support, (entry,)
            stale.kill_all(1.0)
            stale.remove(0.5)
