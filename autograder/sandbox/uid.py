"""The sandbox uid: a dedicated unprivileged user per worker slot, and dropping to it.

RLIMIT_NPROC is not enforced for uid 0, and a root worker could undo its limits, signal the
grader or read root-only files. So a root grader runs each submission as a uid of its own: a
numeric uid with no passwd entry and no files, one per concurrent slot (the kernel counts
processes per uid, machine-wide), claimed with a lock file so two graders never share one.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import signal
from dataclasses import dataclass
from pathlib import Path

BASE_ENV = "AUTOGRADER_SANDBOX_UID_BASE"
DEFAULT_BASE = 1_990_000_000
SLOTS = 64
LOCK_DIR = Path("/run/autograder")

_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def base() -> int:
    """First uid of the range (``AUTOGRADER_SANDBOX_UID_BASE`` overrides the default)."""
    return int(os.environ.get(BASE_ENV, DEFAULT_BASE))


def _processes() -> list[tuple[int, int, int]]:
    """(pid, real uid, thread count) of every process, from /proc/<pid>/status."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
        except OSError:
            continue
        real, threads = -1, 1
        for line in status.splitlines():
            if line.startswith(b"Uid:"):
                real = int(line.split()[1])
            elif line.startswith(b"Threads:"):
                threads = int(line.split()[1])
        found.append((int(entry), real, threads))
    return found


def tasks_of(uid: int) -> int:
    """Tasks (processes and threads) whose real uid is ``uid``: what RLIMIT_NPROC counts."""
    return sum(threads for _, real, threads in _processes() if real == uid)


def kill_uid(uid: int) -> None:
    """SIGKILL every process whose real uid is ``uid`` (root only)."""
    for pid, real, _ in _processes():
        if real == uid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class UidLease:
    """A claimed sandbox uid; the lock is held until ``release``."""

    uid: int
    _fd: int

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def claim() -> UidLease:
    """Lock the first free uid of the range.

    Raises:
        OSError: not root, or every uid of the range is taken or has a passwd entry.
    """
    if os.geteuid() != 0:
        raise PermissionError("only root can run workers under another uid")
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    first = base()
    for uid in range(first, first + SLOTS):
        try:
            pwd.getpwuid(uid)
            continue  # a real account: never borrow it
        except KeyError:
            pass
        fd = os.open(LOCK_DIR / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        kill_uid(uid)  # leftovers of a grader that crashed while holding this slot
        return UidLease(uid, fd)
    raise OSError(f"all {SLOTS} sandbox uids from {first} are in use")


def drop_to(uid: int) -> None:
    """Become ``uid`` for good (real, effective and saved ids; no supplementary groups)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise PermissionError("privilege drop did not take effect")


def drop_capabilities() -> None:
    """Clear every capability (effective, permitted, inheritable, ambient, bounding set).

    For a uid-0 worker when no sandbox uid can be used: it stays uid 0 but loses root's powers.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset failed: {os.strerror(err)}")
