"""Cores and memory a batch may use, read from fake /proc and cgroup trees (v1 and v2)."""

from __future__ import annotations

import os
from pathlib import Path

from autograder import machine

GB = 2**30


def _proc(tmp: Path, cgroup: str, available_gb: float = 64) -> Path:
    proc = tmp / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "meminfo").write_text(
        f"MemTotal: 131072000 kB\nMemAvailable: {int(available_gb * 1024 * 1024)} kB\n"
    )
    return proc


def _write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text + "\n")


def test_cgroup_v2_quota_and_memory_limit(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/docker/abc\n")
    root = tmp_path / "cg"
    _write(root, cgroup__controllers="cpu memory")
    _write(root / "docker", cpu__max="max 100000", memory__max="max")
    _write(
        root / "docker" / "abc",
        cpu__max="250000 100000",  # --cpus 2.5
        memory__max=str(8 * GB),
        memory__current=str(3 * GB),
        memory__stat=f"anon {2 * GB}\ninactive_file {GB}",
    )
    assert machine.cpu_quota(proc, root) == 2.5
    assert machine.usable_cores(proc, root) == min(3, len(os.sched_getaffinity(0)))
    # 8 GB limit, 3 GB used of which 1 GB is reclaimable cache: 6 GB left, below MemAvailable
    assert machine.available_memory(proc, root) == 6 * GB


def test_a_limit_on_a_parent_cgroup_applies(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/outer/inner\n")
    root = tmp_path / "cg"
    _write(root, cgroup__controllers="cpu memory")
    _write(root / "outer", cpu__max="100000 100000", memory__max=str(4 * GB), memory__current="0")
    _write(root / "outer" / "inner", cpu__max="max 100000", memory__max="max")
    assert machine.cpu_quota(proc, root) == 1.0 and machine.usable_cores(proc, root) == 1
    assert machine.available_memory(proc, root) == 4 * GB


def test_cgroup_v1_quota_and_memory_limit(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "4:memory:/box\n2:cpu,cpuacct:/box\n1:name=systemd:/\n", available_gb=2)
    root = tmp_path / "cg"
    _write(root / "cpu,cpuacct" / "box", cpu__cfs_quota_us="400000", cpu__cfs_period_us="100000")
    _write(root / "cpu,cpuacct", cpu__cfs_quota_us="-1", cpu__cfs_period_us="100000")
    _write(
        root / "memory", memory__limit_in_bytes="9223372036854771712", memory__usage_in_bytes="0"
    )
    _write(
        root / "memory" / "box",
        memory__limit_in_bytes=str(16 * GB),
        memory__usage_in_bytes=str(GB),
        memory__stat="total_inactive_file 0",
    )
    assert machine.cpu_quota(proc, root) == 4.0
    # the cgroup leaves 15 GB, but the machine has only 2 GB available
    assert machine.available_memory(proc, root) == 2 * GB


def test_no_cgroup_limits_leave_the_machines_figures(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "0::/\n", available_gb=10)
    root = tmp_path / "cg"
    _write(root, cgroup__controllers="cpu memory", cpu__max="max 100000")
    assert machine.cpu_quota(proc, root) is None
    assert machine.usable_cores(proc, root) == len(os.sched_getaffinity(0))
    assert machine.available_memory(proc, root) == 10 * GB
    assert machine.available_memory(tmp_path / "nowhere", tmp_path / "none") is None


def test_this_machine_answers_something_sane() -> None:
    assert machine.usable_cores() >= 1
    memory = machine.available_memory()
    assert memory is None or memory > 0
