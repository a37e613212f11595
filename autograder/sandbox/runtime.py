"""The files a worker may read: the Python runtime, its import path, and this package.

Nothing else is granted by default: not the course repository (only its ``autograder`` package
and the venv inside it), not the home directory, not ``reference_solutions/``.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import autograder

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
# System locations every dynamically linked program reads; /proc/self is the worker's own.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime")
SYSTEM_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/full")
CPU_INFO = "/sys/devices/system/cpu"


@functools.lru_cache(maxsize=1)
def _isolated_sys_path() -> tuple[str, ...]:
    """``sys.path`` of ``python -I`` (what the zygote gets), asked of the interpreter once."""
    try:
        out = subprocess.run(
            [sys.executable, "-I", "-c", "import sys, json; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            timeout=30,
            env={},
            check=True,
        ).stdout
        return tuple(json.loads(out))
    except (OSError, ValueError, subprocess.SubprocessError):
        return tuple(p for p in sys.path if p and Path(p).is_absolute())


def minimal(paths: list[str]) -> list[str]:
    """Existing absolute paths, without duplicates or paths beneath another one."""
    real = sorted(
        {str(Path(p).resolve()) for p in paths if p and Path(p).is_absolute() and Path(p).exists()}
    )
    kept: list[str] = []
    for path in real:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@functools.lru_cache(maxsize=1)
def python_paths() -> tuple[str, ...]:
    """Directories holding the interpreter, its standard library, site-packages and autograder."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    entries = [p for p in _isolated_sys_path() if not p.endswith(".zip")]
    return tuple(minimal([*prefixes, *entries, str(PACKAGE_DIR)]))
