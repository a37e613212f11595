"""Temporary folders that a killed grader does not leave behind for good.

A grader killed with SIGKILL (the OOM killer, ``kill -9``, a CI timeout) cannot remove its
temporary folders: a slot's inbox and scratch, a batch's extracted zips. The next grader to
start removes them instead. Each folder holds a lock file that its owner keeps ``flock``-ed
while it lives; the kernel drops the lock when the owner dies, however it dies, so a folder
whose lock can be taken is abandoned. Locks, not pids: pids are reused, and containers that
share /tmp see different pids.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path

LOCK = ".owner.lock"
_swept: set[tuple[str, str]] = set()
_swept_lock = threading.Lock()


class OwnedDir:
    """A temporary folder, locked as ours until ``close`` removes it."""

    def __init__(self, prefix: str, root: str | os.PathLike | None = None) -> None:
        base = str(root) if root is not None else tempfile.gettempdir()
        with _swept_lock:
            first = (base, prefix) not in _swept
            _swept.add((base, prefix))
        if first:
            sweep(prefix, base)
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        # locked before it gets its name: a sweeper never sees the lock file unlocked
        pending = self.path / (LOCK + ".new")
        self._fd: int | None = os.open(
            pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(pending, self.path / LOCK)

    def close(self) -> None:
        """Remove the folder and everything in it (idempotent)."""
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.close()


def sweep(prefix: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Remove the folders ``root/prefix*`` whose owner has died; returns those removed.

    Only folders of this user that hold a lock file are considered (never a symlink, never a
    folder some other program or an older grader made): a live owner's lock cannot be taken.
    """
    base = str(root) if root is not None else tempfile.gettempdir()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        try:
            if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            fd = os.open(os.path.join(entry.path, LOCK), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # gone meanwhile, no lock file, or not ours to read
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its owner is alive
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
        finally:
            os.close(fd)
    return removed
