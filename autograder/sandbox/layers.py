"""The layers a worker applies to itself, in the forked child, before the student's import.

Order matters: the scratch directory is handed over while still privileged, then the uid drop
(root only), then the process cap (which binds only once the uid is not 0), then
``no_new_privs``, Landlock and finally seccomp (whose filter would refuse later setup calls).
A layer that the policy asks for and that fails is an error, never a silent downgrade.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from typing import Any

from autograder.sandbox import landlock, seccomp, uid

_PR_SET_NO_NEW_PRIVS = 38


class LayerError(RuntimeError):
    """A layer the policy requires could not be applied in the worker."""


def _use_scratch(scratch: str) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = scratch
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = scratch  # the zygote may have cached its own temp dir


def _no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise LayerError(f"no_new_privs: {os.strerror(ctypes.get_errno())}")


def _vm_size() -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_address_space(extra: int) -> None:
    # Relative to the fork: the zygote's torch already maps gigabytes the worker shares.
    limit = _vm_size() + extra
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _limit_processes(budget: int, existing: int | None = None) -> None:
    # The kernel counts every task of the real uid machine-wide: allow the existing ones.
    total = (uid.tasks_of(os.getuid()) if existing is None else existing) + budget
    resource.setrlimit(resource.RLIMIT_NPROC, (total, total))


def child_layers(settings: dict[str, Any]) -> list[str]:
    """Apply the policy's OS layers to this process; return the names of those applied.

    Args:
        settings: the request's ``confine`` dict (see ``policy.confine_settings``).

    Raises:
        LayerError: a required layer failed; the worker must not import the submission.
    """
    wanted = set(settings.get("layers", ()))
    applied: list[str] = []
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1 and "landlock" in wanted:
        # Landlock (ABI < 8) restricts the calling thread only: a second thread would escape.
        raise LayerError(f"the worker has {threads} threads before confinement; expected 1")
    scratch = settings.get("scratch")
    if scratch:
        _use_scratch(scratch)
    target = settings.get("uid")
    try:
        if settings.get("address_space_extra_bytes"):
            _limit_address_space(int(settings["address_space_extra_bytes"]))
        if os.geteuid() == 0:
            if "uid" in wanted and target is not None:
                if scratch:
                    os.chown(scratch, target, target)
                uid.drop_to(int(target))
                applied.append("uid")
            else:
                uid.drop_capabilities()
                applied.append("no-capabilities")
        if os.getuid() != 0 and settings.get("processes"):
            # a slot's own sandbox uid runs nothing but this worker: no need to count
            existing = 1 if "uid" in applied else None
            _limit_processes(int(settings["processes"]), existing)
            applied.append("nproc")
        _no_new_privs()
        if "landlock" in wanted:
            parts = landlock.restrict(settings.get("read", ()), settings.get("write", ()))
            applied.append("landlock(" + ",".join(parts) + ")")
        if "seccomp" in wanted:
            seccomp.install(
                shares_uid="uid" not in applied,
                host_sockets_hidden=bool(settings.get("host_sockets_hidden")),
            )
            applied.append("seccomp")
    except LayerError:
        raise
    except OSError as exc:
        raise LayerError(f"sandbox layer failed after {applied or 'none'}: {exc}") from exc
    return applied
