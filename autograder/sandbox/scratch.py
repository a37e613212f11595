"""A scratch capped in total without bubblewrap: a tmpfs over the scratch root, in a mount
namespace of the zygote's own.

RLIMIT_FSIZE caps each file a worker writes, not their number: 64 files under a 4 MB cap are
256 MB on the host's disk. As root, the zygote unshares its mount namespace (propagation
private, so nothing reaches the host's mount table), then mounts a tmpfs of the slot's
``scratch_mb`` over its scratch root; its workers inherit the namespace and find "No space left
on device" past the cap. The mount vanishes with the zygote, and its pages are charged to the
memory cgroup of the run that wrote them. A worker cannot undo it: it has no capabilities left,
and seccomp refuses ``umount2``. Without root this needs a user namespace, which is what
bubblewrap uses: install bubblewrap there.
"""

from __future__ import annotations

import ctypes
import os
import tempfile

SIZE_ENV = "AUTOGRADER_SCRATCH_MB"
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000
_MNT_DETACH = 2
# inodes per MB of cap: enough for deep trees of small files, bounded all the same
INODES_PER_MB = 1024


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    return libc


def _failed(what: str) -> str:
    err = ctypes.get_errno()
    return f"{what}: {os.strerror(err)}"


def mount_private_tmpfs(root: str, size_mb: int) -> str:
    """Enter a private mount namespace and mount a ``size_mb`` tmpfs over ``root``.

    Call while the process has one thread (``unshare`` refuses otherwise). Returns '' on
    success, else why it failed (the process may then be in a private namespace without the
    tmpfs: harmless, nothing was mounted).
    """
    if os.geteuid() != 0:
        return "needs root (without it, bubblewrap's user namespace caps scratch)"
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS) != 0:
        return _failed("unshare(CLONE_NEWNS)")
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return _failed("making mounts private")
    options = f"size={size_mb}m,nr_inodes={size_mb * INODES_PER_MB},mode=0711"
    if libc.mount(b"tmpfs", os.fsencode(root), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()):
        return _failed(f"mounting a tmpfs on {root}")
    return ""


def trial() -> str:
    """Mount a 1 MB tmpfs the same way in this (throwaway, single-threaded) process and check
    that it fills up at 1 MB; '' when it does, else the reason."""
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as tmp:
        root = os.path.join(tmp, "scratch")
        os.mkdir(root)
        why = mount_private_tmpfs(root, 1)
        if why:
            return why
        try:
            with open(os.path.join(root, "fill"), "wb") as f:
                f.write(b"\0" * (2 << 20))
            return "a 1 MB tmpfs took 2 MB"
        except OSError:
            return ""
        finally:
            _libc().umount2(os.fsencode(root), _MNT_DETACH)
