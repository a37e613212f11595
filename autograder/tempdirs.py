"""Temporary folders that a killed grader does not leave behind for good, and the one routine
that deletes anything a worker could have written.

A grader killed with SIGKILL (the OOM killer, ``kill -9``, a CI timeout) cannot remove its
temporary folders: a slot's inbox and scratch, a batch's extracted zips. The next grader to
start removes them instead. Each folder holds a lock file that its owner keeps ``flock``-ed
while it lives; the kernel drops the lock when the owner dies, however it dies, so a folder
whose lock can be taken is abandoned. Locks, not pids: pids are reused, and containers that
share /tmp see different pids.

Deleting what a hostile worker wrote (``remove_tree``, ``empty_dir``) must not depend on its
shape: ``shutil.rmtree`` recurses once per level (a 5,000-level tree raised RecursionError),
builds paths longer than PATH_MAX, and gives up on a folder chmod-ed 000. Here the walk is a
loop holding one directory descriptor at a time; every step is relative to a descriptor
(``dir_fd``, ``O_NOFOLLOW``), so a symlink is removed, never followed, and no path grows. A folder
we own but may not read or write is unlocked first. Another filesystem mounted inside is not
entered.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
import threading
from pathlib import Path

LOCK = ".owner.lock"
_swept: set[tuple[str, str]] = set()
_swept_lock = threading.Lock()
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


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
        remove_tree(self.path)
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
    Whatever a folder holds (any depth, unreadable folders, symlink loops), the sweep neither
    raises nor stops: a grader's start must not depend on what a dead one left.
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
            if remove_tree(entry.path):
                removed.append(Path(entry.path))
        except Exception:  # noqa: BLE001 - a leftover must never stop a grader from starting
            continue
        finally:
            os.close(fd)
    return removed


def remove_tree(path: str | os.PathLike) -> bool:
    """Delete ``path`` and everything beneath it; True when it is gone (or never existed).

    ``path`` itself may be a file or a symlink (removed, not followed). Never raises
    ``OSError``: what cannot be deleted is left in place and the result is False.
    """
    path = os.fspath(path)
    parent, name = os.path.split(os.path.normpath(path))
    try:
        parent_fd = os.open(parent or ".", _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError:
        return not os.path.lexists(path)
    try:
        return _remove_entry(parent_fd, name)
    finally:
        os.close(parent_fd)


def empty_dir(path: str | os.PathLike) -> bool:
    """Delete everything inside the directory ``path`` (kept); True when it is empty."""
    try:
        fd = os.open(os.fspath(path), _DIR_FLAGS)
    except OSError:
        return False
    try:
        return _clear(fd)
    finally:
        os.close(fd)


def _remove_entry(parent_fd: int, name: str) -> bool:
    try:
        info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return _unlink(parent_fd, name)
    fd = _open_dir(parent_fd, name, info)
    if fd is None:
        return False
    try:
        emptied = _clear(fd)
    finally:
        os.close(fd)
    return emptied and _rmdir(parent_fd, name)


def _unlink(dir_fd: int, name: str) -> bool:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _rmdir(dir_fd: int, name: str) -> bool:
    try:
        os.rmdir(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _open_dir(parent_fd: int, name: str, info: os.stat_result) -> int | None:
    """The directory ``name`` (lstat-ed as ``info``) opened without following a symlink, after
    giving ourselves read, write and search on it if the worker took them away; None if that
    fails or something else now sits under that name."""
    for attempt in range(2):
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except PermissionError:
            if attempt:
                return None
            try:
                # glibc's no-follow chmod: refuses a symlink put there meanwhile
                os.chmod(name, 0o700, dir_fd=parent_fd, follow_symlinks=False)
            except (OSError, NotImplementedError):
                return None
            continue
        except OSError:
            return None
        if _identity(os.fstat(fd)) != _identity(info):
            os.close(fd)
            return None
        _unlock(fd)
        return fd
    return None


def _unlock(fd: int) -> None:
    """Give the owner of the open directory ``fd`` rwx on it, if it lacks them (mode 500, 000)."""
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:
            os.fchmod(fd, stat.S_IMODE(mode) | 0o700)
    except OSError:
        pass  # not ours: removing its entries fails and is reported


def _clear(top: int) -> bool:
    """Empty the open directory ``top``, depth first, holding one more descriptor at a time.

    Going down, the current directory's descriptor is replaced by its child's; coming back up,
    the parent is reopened as ``..`` and checked against the identity recorded on the way down,
    so the walk never follows a path and never holds a descriptor per level.
    """
    _unlock(top)
    device = os.fstat(top).st_dev
    names: list[str] = []  # the path from ``top`` down to ``fd``, one name per level
    identities = [_identity(os.fstat(top))]  # the identity of each level, ``top`` first
    stuck: set[tuple[int, int]] = set()  # entries that could not be removed: skipped on rescans
    fd = top
    try:
        while True:
            child = _next_subdir(fd, device, stuck)
            if child is not None:
                sub_fd, name, identity = child
                if fd != top:
                    os.close(fd)
                fd = sub_fd
                names.append(name)
                identities.append(identity)
                continue
            if fd == top:
                return not stuck
            # ``fd`` holds nothing more we can remove: go up and remove it
            name, identity = names.pop(), identities.pop()
            parent = top if not names else os.open("..", _DIR_FLAGS, dir_fd=fd)
            if parent != top and _identity(os.fstat(parent)) != identities[-1]:
                os.close(parent)  # moved while we worked: stop rather than guess
                return False
            os.close(fd)
            fd = parent
            if not _rmdir(fd, name):
                stuck.add(identity)
    except OSError:
        return False
    finally:
        if fd != top:
            os.close(fd)


def _next_subdir(
    fd: int, device: int, stuck: set[tuple[int, int]]
) -> tuple[int, str, tuple[int, int]] | None:
    """Unlink every non-directory in ``fd``; return the first subdirectory to descend into
    (opened, with its name and identity), or None when only stuck entries remain."""
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            identity = _identity(info)
            if identity in stuck:
                continue
            if not stat.S_ISDIR(info.st_mode):
                if not _unlink(fd, entry.name):
                    stuck.add(identity)
                continue
            if info.st_dev != device:
                stuck.add(identity)  # a mount point: never delete into another filesystem
                continue
            sub = _open_dir(fd, entry.name, info)
            if sub is None:
                stuck.add(identity)
                continue
            return sub, entry.name, identity
    return None
