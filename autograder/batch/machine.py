"""What this process may use of the machine: cores and memory, a container's limits included.

A container often sees the host's cores and memory (``os.cpu_count``, ``MemAvailable``) while
its cgroup allows far less (``docker run --cpus 2 --memory 8g`` on a 64-core host). A batch
that started a worker per host core there would fight over two cores and meet the OOM killer,
so the limits of this process's cgroups (v1 or v2, and their ancestors) are read as well.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from autograder.sandbox import cgroups

_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a huge number (9223372036854771712)


def _cgroup_paths(proc: Path) -> dict[str, str]:
    """Controller (``cpu``, ``memory``, or ``""`` for the v2 hierarchy) -> this process's path."""
    paths: dict[str, str] = {}
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for name in controllers.split(",") if controllers else [""]:
            paths.setdefault(name, path)
    return paths


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _folders(proc: Path, controller: str) -> tuple[list[Path], int]:
    """This process's cgroup folder for ``controller`` and every one above it that is visible
    (a limit anywhere applies), and the cgroup version (0: none found)."""
    paths = _cgroup_paths(proc)
    found = cgroups.mounts(proc / "self" / "mountinfo")
    v1 = [m for m in found if m.kind == "cgroup" and controller in m.options]
    v2 = [m for m in found if m.kind == "cgroup2"]
    if v1 and controller in paths:
        return _under(v1[0], paths[controller]), 1
    if v2 and "" in paths:
        return _under(v2[0], paths[""]), 2
    return [], 0


def _under(mount: cgroups.Mount, path: str) -> list[Path]:
    """``path`` (as /proc/self/cgroup gives it) inside ``mount``, then each folder above it up
    to the mount point. A mount of a subtree (a container without a cgroup namespace) holds
    ``path`` below its own ``root``."""
    parts = [p for p in path.split("/") if p and p != ".."]
    root = [p for p in mount.root.split("/") if p]
    if parts[: len(root)] == root:
        parts = parts[len(root) :]
    return [mount.point.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def cpu_quota(proc: Path = Path("/proc")) -> float | None:
    """Cores' worth of CPU time the cgroups allow (``--cpus``); None when unlimited."""
    folders, version = _folders(proc, "cpu")
    quotas = []
    for folder in folders:
        if version == 2:
            text = _read(folder / "cpu.max")
            if text and not text.startswith("max"):
                quota, _, period = text.partition(" ")
                quotas.append(_ratio(quota, period or "100000"))
        else:
            quota = _read(folder / "cpu.cfs_quota_us")
            if quota and not quota.startswith("-"):
                quotas.append(_ratio(quota, _read(folder / "cpu.cfs_period_us") or "100000"))
    found = [q for q in quotas if q is not None and q > 0]
    return min(found) if found else None


def _ratio(quota: str, period: str) -> float | None:
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def usable_cores(proc: Path = Path("/proc")) -> int:
    """Cores this process may run on (its CPU set), no more than its cgroup's CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = cpu_quota(proc)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def available_memory(proc: Path = Path("/proc")) -> int | None:
    """Bytes new work can use: the kernel's MemAvailable, and no more than any of this
    process's memory cgroups has left below its limit; None if neither can be read."""
    found: list[int] = []
    meminfo = _read(proc / "meminfo") or ""
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            try:
                found.append(int(line.split()[1]) * 1024)
            except (IndexError, ValueError):
                pass
    folders, version = _folders(proc, "memory")
    names = (
        ("memory.max", "memory.current")
        if version == 2
        else (
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
        )
    )
    for folder in folders:
        limit, usage = _read(folder / names[0]), _read(folder / names[1])
        try:
            limit_bytes = int(limit) if limit and limit != "max" else None
            usage_bytes = int(usage) if usage else 0
        except ValueError:
            continue
        if limit_bytes is not None and limit_bytes < _UNLIMITED:
            # usage counts the page cache; its inactive part is reclaimed before an OOM kill
            # (what `docker stats` subtracts too)
            reclaimable = _stat(folder / "memory.stat", "total_inactive_file", "inactive_file")
            found.append(max(0, limit_bytes - max(0, usage_bytes - reclaimable)))
    return min(found) if found else None


def _stat(path: Path, *keys: str) -> int:
    """The first of ``keys`` found in a ``memory.stat`` file (0 if none)."""
    values: dict[str, str] = {}
    for line in (_read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    for key in keys:
        try:
            return int(values[key])
        except (KeyError, ValueError):
            continue
    return 0
