"""Per-run cgroups (v1 or v2): a memory limit with OOM detection, a process cap, kill-all.

Each submission's worker gets its own group, created by the trusted side (root) before the
request is written, so nothing the student runs escapes it: ``pids.max`` binds even uid 0, the
memory limit covers what RLIMIT_AS misses (MAP_SHARED, tmpfs pages), and the OOM counter tells
"memory limit exceeded" apart from a crash. v1 is the hybrid layout (separate ``memory`` and
``pids`` hierarchies); v2 is one unified tree with ``memory.max`` and ``cgroup.kill``.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

BASE = "autograder"


@dataclass(frozen=True)
class Support:
    """Where run groups are made: ``dirs`` holds one base per hierarchy (v1: memory, pids)."""

    version: int
    dirs: tuple[Path, ...]


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
        return Support(1, (v1["memory"] / BASE, v1["pids"] / BASE)), ""
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
            return Support(2, (Path(point) / BASE,)), ""
    return None, "no writable memory and pids controllers (neither cgroup v1 nor v2)"


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _prepare_base(support: Support) -> None:
    for base in support.dirs:
        base.mkdir(mode=0o755, exist_ok=True)
    if support.version == 2:
        root_control = support.dirs[0].parent / "cgroup.subtree_control"
        enabled = root_control.read_text().split()
        missing = [c for c in ("memory", "pids") if c not in enabled]
        if missing:
            _write(root_control, " ".join("+" + c for c in missing))
        _write(support.dirs[0] / "cgroup.subtree_control", "+memory +pids")


class RunGroup:
    """One submission's cgroup; ``join`` it before the student's code runs."""

    def __init__(self, support: Support, name: str, memory_bytes: int, pids: int) -> None:
        self.support = support
        _prepare_base(support)
        self.dirs = tuple(base / name for base in support.dirs)
        for path in self.dirs:
            path.mkdir(mode=0o755)
        try:
            self._limit(memory_bytes, pids)
        except OSError:
            self.remove()
            raise

    def _limit(self, memory_bytes: int, pids: int) -> None:
        if self.support.version == 1:
            memory, pid_dir = self.dirs
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
        """Processes still in the group."""
        try:
            text = (self.dirs[-1] / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

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


def trial(support: Support) -> str:
    """Create, limit and remove a throwaway group; '' when that works, else the reason."""
    try:
        group = RunGroup(support, f"{os.getpid()}-probe", 256 << 20, 8)
    except OSError as exc:
        return f"cannot create a cgroup: {exc.strerror or exc}"
    group.remove()
    return ""


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
