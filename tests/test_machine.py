"""Cores and memory a batch may use, read from fake /proc and cgroup trees (v1 and v2)."""

from __future__ import annotations

import os
from pathlib import Path

from autograder.batch import machine

GB = 2**30


def _proc(tmp: Path, cgroup: str, mounts: list[str], available_gb: float = 64) -> Path:
    """A fake /proc: ``mounts`` are "kind point options root" lines for mountinfo."""
    proc = tmp / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup)
    lines = []
    for i, mount in enumerate(mounts):
        kind, point, options, root = mount.split()
        lines.append(f"{30 + i} 23 0:{i} {root} {point} rw,relatime - {kind} {kind} rw,{options}")
    lines.append("22 1 0:5 / /proc rw - proc proc rw")
    (proc / "self" / "mountinfo").write_text("\n".join(lines) + "\n")
    (proc / "meminfo").write_text(
        f"MemTotal: 131072000 kB\nMemAvailable: {int(available_gb * 1024 * 1024)} kB\n"
    )
    return proc


def _write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text + "\n")


def test_cgroup_v2_quota_and_memory_limit(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    proc = _proc(tmp_path, "0::/docker/abc\n", [f"cgroup2 {root} nsdelegate /"])
    _write(root, cgroup__controllers="cpu memory")
    _write(root / "docker", cpu__max="max 100000", memory__max="max")
    _write(
        root / "docker" / "abc",
        cpu__max="250000 100000",  # --cpus 2.5
        memory__max=str(8 * GB),
        memory__current=str(3 * GB),
        memory__stat=f"anon {2 * GB}\ninactive_file {GB}",
    )
    assert machine.cpu_quota(proc) == 2.5
    assert machine.usable_cores(proc) == min(3, len(os.sched_getaffinity(0)))
    # 8 GB limit, 3 GB used of which 1 GB is reclaimable cache: 6 GB left, below MemAvailable
    assert machine.available_memory(proc) == 6 * GB


def test_a_limit_on_a_parent_cgroup_applies(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    proc = _proc(tmp_path, "0::/outer/inner\n", [f"cgroup2 {root} nsdelegate /"])
    _write(root, cgroup__controllers="cpu memory")
    _write(root / "outer", cpu__max="100000 100000", memory__max=str(4 * GB), memory__current="0")
    _write(root / "outer" / "inner", cpu__max="max 100000", memory__max="max")
    assert machine.cpu_quota(proc) == 1.0 and machine.usable_cores(proc) == 1
    assert machine.available_memory(proc) == 4 * GB


def test_cgroup_v1_quota_and_memory_limit(tmp_path: Path) -> None:
    cpu, memory = tmp_path / "cg" / "cpu,cpuacct", tmp_path / "cg" / "memory"
    proc = _proc(
        tmp_path,
        "4:memory:/box\n2:cpu,cpuacct:/box\n1:name=systemd:/\n",
        [f"cgroup {cpu} cpu,cpuacct /", f"cgroup {memory} memory /"],
        available_gb=2,
    )
    _write(cpu / "box", cpu__cfs_quota_us="400000", cpu__cfs_period_us="100000")
    _write(cpu, cpu__cfs_quota_us="-1", cpu__cfs_period_us="100000")
    _write(memory, memory__limit_in_bytes="9223372036854771712", memory__usage_in_bytes="0")
    _write(
        memory / "box",
        memory__limit_in_bytes=str(16 * GB),
        memory__usage_in_bytes=str(GB),
        memory__stat="total_inactive_file 0",
    )
    assert machine.cpu_quota(proc) == 4.0
    # the cgroup leaves 15 GB, but the machine has only 2 GB available
    assert machine.available_memory(proc) == 2 * GB


def test_a_container_that_sees_only_its_own_subtree(tmp_path: Path) -> None:
    """Without a cgroup namespace, /proc/self/cgroup names the host's path, and the mount's
    root is that same folder: the limits are read at the mount point itself."""
    memory = tmp_path / "cg" / "memory"
    proc = _proc(
        tmp_path,
        "4:memory:/docker/abc\n",
        [f"cgroup {memory} memory /docker/abc"],
    )
    _write(memory, memory__limit_in_bytes=str(8 * GB), memory__usage_in_bytes=str(GB))
    assert machine.available_memory(proc) == 7 * GB


def test_no_cgroup_limits_leave_the_machines_figures(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    proc = _proc(tmp_path, "0::/\n", [f"cgroup2 {root} nsdelegate /"], available_gb=10)
    _write(root, cgroup__controllers="cpu memory", cpu__max="max 100000")
    assert machine.cpu_quota(proc) is None
    assert machine.usable_cores(proc) == len(os.sched_getaffinity(0))
    assert machine.available_memory(proc) == 10 * GB
    assert machine.available_memory(tmp_path / "nowhere") is None


def test_this_machine_answers_something_sane() -> None:
    assert machine.usable_cores() >= 1
    memory = machine.available_memory()
    assert memory is None or memory > 0
