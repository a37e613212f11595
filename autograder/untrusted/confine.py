"""Confinement applied inside each worker child before the submission is imported.

Only rlimits and process hygiene live here; the OS isolation layers (Landlock, seccomp, a
sandbox uid, cgroups, bubblewrap) are chosen by ``autograder.sandbox`` and applied through
this one entry point, so the worker has a single place where its powers are taken away.
"""

from __future__ import annotations

import os
import resource
from typing import Any


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def apply(settings: dict[str, Any]) -> list[str]:
    """Apply the limits in ``settings``; return the names of the layers now active."""
    layers = []
    os.umask(0o077)
    scratch = settings.get("scratch")
    if scratch:
        os.makedirs(
            scratch, mode=0o700, exist_ok=True
        )  # fresh per run; the zygote empties it after
        os.chdir(scratch)
    _limit(resource.RLIMIT_CORE, 0)
    if "cpu_seconds" in settings:
        cpu = int(settings["cpu_seconds"])
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        try:
            resource.setrlimit(
                resource.RLIMIT_CPU,
                (cpu, cpu + 2 if hard == resource.RLIM_INFINITY else min(cpu + 2, hard)),
            )
        except (ValueError, OSError):
            pass
    if "memory_bytes" in settings:
        _limit(resource.RLIMIT_AS, int(settings["memory_bytes"]))
    if "file_bytes" in settings:
        _limit(resource.RLIMIT_FSIZE, int(settings["file_bytes"]))
    _limit(resource.RLIMIT_NOFILE, int(settings.get("open_files", 256)))
    layers.append("rlimits")
    try:
        from autograder.sandbox.layers import child_layers
    except ImportError:
        return layers
    layers += child_layers(settings)
    return layers
