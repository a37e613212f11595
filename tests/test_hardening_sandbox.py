"""Hostile submissions through the CLI (issue 13, classes 1 and 6): a batch where attackers share
the lanes with honest students, and ``check`` on a submission that leaves a 5,000-level tree.

Each attack (``tests/hostile/``) is spliced after the reference solution and runs at import
time, so an attacker whose attack fails scores exactly like the reference: every score in the
gradebook must be the reference's, and nothing may stay behind in the temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.gradebook import open_gradebook

REPO = Path(__file__).resolve().parents[1]
REFERENCE = (REPO / "reference_solutions" / "hw1.py").read_text()
HOSTILE = REPO / "tests" / "hostile"


def _attack(name: str, **subs: object) -> str:
    """The reference followed by a hostile file's module-level attack (not its ``sigmoid``)."""
    text = (HOSTILE / name).read_text().split("\n\ndef sigmoid(x):")[0]
    for key, value in subs.items():
        text = text.replace(f"__{key}__", str(value))
    return f"{REFERENCE}\n\n# --- attack ---\n{text}\n"


@pytest.fixture
def temp() -> Iterator[Path]:
    """The grader's TMPDIR: under /tmp, where a sandbox uid can enter the slots' folders."""
    path = Path(tempfile.mkdtemp(prefix="ag-hardening-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _left(temp: Path) -> list[str]:
    """What the grader left in its TMPDIR, but torch's own compile cache (kept by design)."""
    return sorted(p.name for p in temp.iterdir() if not p.name.startswith("torchinductor_"))


def _cli(*args: str, temp: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(temp)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )


def test_attackers_in_a_batch_change_no_other_score_and_leave_nothing(
    tmp_path: Path, temp: Path
) -> None:
    """Attackers that go after the zygote, the lanes and the grader (prlimit, pidfd, signals,
    pid scanning) and one that leaves an undeletable-looking tree, graded on the same lanes as
    honest students: every student gets the reference's score, and the batch leaves nothing in
    its temporary folder."""
    root = tmp_path / "subs"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    for i in range(3):
        (root / f"honest{i}.py").write_text(f"{REFERENCE}\n# student {i}\n")
    (root / "reach.py").write_text(_attack("reach_grader.py", GRADER_PID=os.getpid()))
    (root / "tree.py").write_text(_attack("deep_tree.py", OUTSIDE=outside))
    db = tmp_path / "gradebook.sqlite"
    done = _cli(
        "batch",
        "hw1",
        str(root),
        "--db",
        str(db),
        "--workers",
        "2",
        "--skip-benchmarks",
        "--course",
        str(REPO),
        temp=temp,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open_gradebook(db) as book:
        counted = book.counted("hw1")
    assert sorted(counted) == ["honest0", "honest1", "honest2", "reach", "tree"]
    # What the attackers score is their own business (the tree costs its author time, since
    # Landlock checks every level of a path; ctypes is a tampering finding): every honest
    # student, graded before or after them on the same lanes, scores the reference's.
    for student in ("honest0", "honest1", "honest2"):
        report = counted[student].report
        assert report is not None, student
        statuses = {task.id: task.status for task in report.tasks}
        assert all(s in ("passed", "skipped") for s in statuses.values()), (student, statuses)
    assert len({counted[s].score for s in ("honest0", "honest1", "honest2")}) == 1
    for attacker in ("reach", "tree"):
        report = counted[attacker].report
        assert report is not None and report.submission_status != "grader error", attacker
    assert outside.read_text() == "keep"
    assert _left(temp) == []  # the deep tree did not survive the batch


def test_check_of_a_5000_level_tree_exits_cleanly_and_the_next_start_works(
    tmp_path: Path, temp: Path
) -> None:
    submission = tmp_path / "hw1.py"
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    submission.write_text(_attack("deep_tree.py", OUTSIDE=outside))
    for _ in range(2):  # the second start sweeps whatever the first one left
        done = _cli("check", "hw1", str(submission), "--skip-benchmarks", "--json", temp=temp)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        report = json.loads(done.stdout)  # graded: whatever the tree cost its author
        assert {task["status"] for task in report["tasks"]} <= {"passed", "skipped", "timeout"}
        assert _left(temp) == []
    assert outside.read_text() == "keep"
