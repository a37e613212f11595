"""The bubblewrap command that wraps the warm zygote: an allow-list view of the filesystem.

Inside, the zygote and every worker it forks see only ``/usr``, the Python runtime, this package,
a few device nodes, the slot's read-only inbox (staged submissions) and a size-capped tmpfs for
scratch; the root is read-only and there is no network (a private, unconnected namespace).

Why not a pid namespace: the trusted side supervises each worker by its pid (process-group kill,
cgroup join) and those must be host pids; Landlock confines what a worker sees of ``/proc``.
As root, bwrap runs without a user namespace and keeps only the capabilities the zygote needs to
hand each worker to the sandbox uid and clean up after it; as another user it needs unprivileged
user namespaces (some distributions restrict them) and keeps no capabilities.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.sandbox import runtime

# What the zygote keeps as root: switch a worker to the sandbox uid, hand it its scratch
# directory, kill what it leaves behind, and delete its files afterwards.
ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


def executable() -> str | None:
    """Path of ``bwrap``, or None when it is not installed."""
    return shutil.which("bwrap", path=os.environ.get("PATH", "") + ":/usr/bin:/bin")


def _dirs(path: str, made: set[str]) -> list[str]:
    """``--dir`` arguments for the ancestors of ``path`` (world-traversable, unlike bwrap's default)."""
    args: list[str] = []
    parts = Path(path).parts[1:-1]
    current = ""
    for part in parts:
        current += "/" + part
        if current not in made:
            made.add(current)
            args += ["--perms", "0755", "--dir", current]
    return args


def command(
    bwrap: str,
    *,
    scratch_root: str,
    scratch_bytes: int,
    inbox: str,
    readable: list[str],
    root: bool,
) -> list[str]:
    """The wrapper, ending where the zygote's own command line begins.

    Args:
        bwrap: path of the bwrap executable.
        scratch_root: path (same inside and out) of the size-capped tmpfs for worker scratch.
        scratch_bytes: size of that tmpfs.
        inbox: host directory of staged submissions, bound read-only at the same path.
        readable: extra host paths to bind read-only (data sets, say).
        root: whether the grader runs as root (no user namespace; a few capabilities kept).
    """
    args = [bwrap, "--die-with-parent", "--new-session"]
    args += ["--unshare-ipc", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if root:
        args += ["--cap-drop", "ALL"]
        for cap in ROOT_CAPS:
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind", "/proc", "/proc", "--dev", "/dev"]
    made: set[str] = {"/usr", "/proc", "/dev"}
    for optional in ("/etc/ld.so.cache", "/etc/localtime", runtime.CPU_INFO):
        if os.path.exists(optional):
            args += _dirs(optional, made) + ["--ro-bind", optional, optional]
    for path in runtime.minimal([*runtime.python_paths(), *readable]):
        if path == "/usr" or path.startswith("/usr/"):
            continue
        args += _dirs(path, made) + ["--ro-bind", path, path]
        made.add(path)
    args += _dirs(scratch_root, made)
    args += ["--size", str(scratch_bytes), "--perms", "0711", "--tmpfs", scratch_root]
    args += _dirs(inbox, made) + ["--ro-bind", inbox, inbox]
    # read-only root and /dev: no file outside scratch outlives a run (bwrap makes /dev/shm)
    args += [
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--setenv",
        "TMPDIR",
        scratch_root,
        "--chdir",
        "/",
    ]
    return args


def trial(wrapper: list[str]) -> str:
    """Run the interpreter through ``wrapper``; '' when it starts, else bwrap's complaint."""
    try:
        done = subprocess.run(
            [*wrapper, sys.executable, "-I", "-c", "import os"],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap did not run: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"bwrap failed: {lines[-1] if lines else f'exit code {done.returncode}'}"
    return ""
