"""Temporary folders: a killed owner's are removed by the next grader, a live owner's never; and
the one deletion routine takes whatever a worker leaves (any depth, locked folders, links)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import tempdirs

REPO = Path(__file__).resolve().parents[1]


def _abandoned(root: Path, prefix: str) -> Path:
    """A folder whose owner process was SIGKILLed while it held it."""
    code = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); from autograder import tempdirs; "
        "d = tempdirs.OwnedDir(sys.argv[2], sys.argv[3]); (d.path / 'x').write_text('x'); "
        "print(d.path, flush=True); os.kill(os.getpid(), 9)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(REPO), prefix, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    path = Path(proc.stdout.strip())
    assert (path / "x").exists() and (path / tempdirs.LOCK).exists()
    return path


def test_a_killed_owners_folder_is_swept_and_a_live_one_is_kept(tmp_path: Path) -> None:
    with tempdirs.OwnedDir("ag-test-", tmp_path) as live:
        dead = _abandoned(tmp_path, "ag-test-")
        assert tempdirs.sweep("ag-test-", tmp_path) == [dead]
        assert not dead.exists() and live.is_dir()
        assert tempdirs.sweep("ag-test-", tmp_path) == []
    assert not live.exists()  # closed: removed with its lock


def test_a_new_owner_sweeps_once(tmp_path: Path) -> None:
    dead = _abandoned(tmp_path, "ag-once-")
    with tempdirs.OwnedDir("ag-once-", tmp_path):
        assert not dead.exists()


def test_only_locked_folders_of_ours_are_swept(tmp_path: Path) -> None:
    """No lock file (another program, an older grader) or a symlink: left alone."""
    bare = tmp_path / "ag-other-1"
    bare.mkdir()
    (bare / "keep").write_text("x")
    target = _abandoned(tmp_path, "elsewhere-")
    (tmp_path / "ag-other-link").symlink_to(target)
    assert tempdirs.sweep("ag-other-", tmp_path) == []
    assert (bare / "keep").exists() and target.exists()


def test_the_lock_is_not_inherited_by_programs_the_owner_starts(tmp_path: Path) -> None:
    """A zygote started by the grader must not keep its folders 'alive' after the grader."""
    with tempdirs.OwnedDir("ag-exec-", tmp_path) as path:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            fds = os.listdir(f"/proc/{child.pid}/fd")
            targets = {os.readlink(f"/proc/{child.pid}/fd/{fd}") for fd in fds}
            assert str(path / tempdirs.LOCK) not in targets
        finally:
            child.kill()
            child.wait()


def _fast_tmp(tmp_path: Path) -> Path:
    """A folder on tmpfs when there is one (this VM's disk takes milliseconds per rmdir)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="ag-tempdirs-", dir=shm))
    return tmp_path


def _hostile_tree(top: Path, outside: Path, levels: int) -> None:
    """What a worker may leave: ``levels`` nested folders (paths past PATH_MAX), symlink loops,
    links to a file outside, folders it made unreadable (000) or read-only (500)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    here = fd
    for level in range(levels):
        os.mkdir("d", dir_fd=here)
        os.symlink("..", "up", dir_fd=here)
        with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=here), "w") as f:
            f.write("x")
        if level % 1000 == 0:
            os.symlink(str(outside), "outside", dir_fd=here)
            os.mkdir("locked", dir_fd=here)
            locked = os.open("locked", os.O_RDONLY, dir_fd=here)
            os.mkdir("inner", dir_fd=locked)
            os.symlink("/", "root", dir_fd=locked)
            os.fchmod(locked, 0)
            os.close(locked)
            os.mkdir("read-only", 0o500, dir_fd=here)
        below = os.open("d", os.O_RDONLY, dir_fd=here)
        if here != fd:
            os.close(here)
        here = below
    os.fchmod(here, 0)
    os.close(here)
    os.close(fd)


def test_remove_tree_takes_any_tree_with_a_few_descriptors(tmp_path: Path) -> None:
    import resource

    base = _fast_tmp(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    _hostile_tree(base / "tree", outside, 5000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # room for what is open now and a handful more: one descriptor per level would not fit
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 8, hard))
    try:
        assert tempdirs.remove_tree(base / "tree")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not (base / "tree").exists() and outside.read_text() == "keep"
    assert tempdirs.remove_tree(base / "tree")  # already gone: fine
    assert tempdirs.remove_tree(base) and not base.exists()


def test_remove_tree_removes_a_link_not_its_target_and_empty_dir_keeps_the_folder(
    tmp_path: Path,
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "precious").write_text("x")
    (tmp_path / "link").symlink_to(target)
    assert tempdirs.remove_tree(tmp_path / "link")
    assert (target / "precious").exists() and not (tmp_path / "link").exists()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "to-target").symlink_to(target)
    _hostile_tree(scratch / "tree", target / "precious", 50)
    assert tempdirs.empty_dir(scratch)
    assert scratch.is_dir() and list(scratch.iterdir()) == []
    assert (target / "precious").read_text() == "x"


def test_the_sweep_survives_any_leftover(tmp_path: Path) -> None:
    """A killed grader's folder holding a deep tree, locked folders and link loops: the next
    grader's start removes it and does not crash (it raised RecursionError once)."""
    dead = _abandoned(tmp_path, "ag-deep-")
    _hostile_tree(dead / "scratch", tmp_path / "nowhere", 1500)
    (dead / "loop").symlink_to(dead)
    with tempdirs.OwnedDir("ag-deep-", tmp_path) as live:
        assert not dead.exists() and live.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_an_ordinary_user_removes_folders_its_worker_locked(tmp_path: Path) -> None:
    """Root reads any folder; the owner of a folder chmod-ed 000 must unlock it first."""
    import shutil

    import pytest  # not at the top: the other user's interpreter imports this module

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to act as another user")
    python = "/usr/bin/python3"
    user = 4242
    base = Path(tempfile.mkdtemp(prefix="ag-tempdirs-user-"))
    try:
        base.chmod(0o755)
        os.chown(base, user, user)
        code = (
            "import os, sys; sys.path[:0] = sys.argv[1:3]; from autograder import tempdirs; "
            "from test_tempdirs import _hostile_tree; from pathlib import Path; "
            "top = Path(sys.argv[3]); _hostile_tree(top / 'tree', Path('/etc/hostname'), 300); "
            "print(tempdirs.remove_tree(top / 'tree'), (top / 'tree').exists())"
        )
        done = subprocess.run(
            [
                "setpriv",
                f"--reuid={user}",
                f"--regid={user}",
                "--clear-groups",
                python,
                "-c",
                code,
                str(REPO),
                str(REPO / "tests"),
                str(base),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0 and (
            "Permission denied" in done.stderr or not Path(python).exists()
        ):
            pytest.skip(f"the checkout is not readable by uid {user}: {done.stderr[-200:]}")
        assert done.stdout.split() == ["True", "False"], done.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)
