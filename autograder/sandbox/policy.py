"""The ``confine`` dict: everything a worker needs to box itself, built on the trusted side.

It travels inside the request and is read by ``autograder.untrusted.confine.apply`` (rlimits) and
``layers.child_layers`` (OS layers). The trusted side also reads ``cgroup`` from it to create the
run's cgroup. Paths are the same inside bubblewrap and out (the wrapper binds them in place).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

from autograder.sandbox import runtime
from autograder.sandbox.capabilities import Capabilities, probe

MB = 1 << 20
OPEN_FILES = 256
# With a cgroup enforcing memory, the address-space limit is only a backstop for runaway
# reservations; torch's virtual size exceeds its resident size by several hundred MB.
AS_SLACK_MB = 1024


class LimitsLike(Protocol):
    """The fields of ``spec.Limits`` this module reads."""

    submission_seconds: float
    memory_mb: int
    processes: int
    scratch_mb: int


def readable_paths(student_file: Path, readable: list[Path]) -> list[str]:
    """What Landlock lets the worker read: runtime, system libraries, devices, itself, the file."""
    return [
        *runtime.python_paths(),
        *runtime.SYSTEM_READ,
        *runtime.SYSTEM_DEVICES,
        runtime.CPU_INFO,
        "/proc/self",  # opened in the worker: its own /proc/<pid>, nobody else's
        str(student_file),
        *map(str, readable),
    ]


def confine_settings(
    limits: LimitsLike,
    scratch: Path,
    student_file: Path,
    readable: list[Path],
    insecure: bool,
    *,
    caps: Capabilities | None = None,
    sandbox_uid: int | None = None,
) -> dict[str, Any]:
    """The request's ``confine`` dict for one submission.

    Args:
        limits: the assignment's limits (``spec.Limits``).
        scratch: the worker's private scratch directory (created by the worker).
        student_file: the submission as the worker sees it (staged copy).
        readable: extra paths the worker may read (data sets).
        insecure: the TA accepted running without file or network isolation; recorded.
        caps: probed layers (``probe()`` when omitted).
        sandbox_uid: the slot's uid when the sandbox-uid layer is in use.
    """
    caps = caps or probe()
    layers = [name for name in ("landlock", "seccomp") if caps.active(name)]
    if sandbox_uid is not None and caps.active("sandbox-uid"):
        layers.append("uid")
    memory = limits.memory_mb * MB
    cgroup = caps.active("cgroup")
    return {
        "scratch": str(scratch),
        "cpu_seconds": math.ceil(limits.submission_seconds),
        # on top of what the warm runtime already maps (torch alone maps about 3 GB)
        "address_space_extra_bytes": memory + (AS_SLACK_MB * MB if cgroup else 0),
        "file_bytes": limits.scratch_mb * MB,
        "open_files": OPEN_FILES,
        "processes": limits.processes,
        "uid": sandbox_uid if "uid" in layers else None,
        "layers": layers,
        "read": readable_paths(student_file, readable),
        "write": [str(scratch), "/dev/null"],
        "cgroup": {"memory_bytes": memory, "pids": limits.processes} if cgroup else None,
        # bubblewrap's allow-list view holds no host socket: only then may the worker connect
        "host_sockets_hidden": caps.active("bubblewrap"),
        "insecure": insecure,
    }
