"""Temporary folders: a killed owner's are removed by the next grader, a live owner's never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
