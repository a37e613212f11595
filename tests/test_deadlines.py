"""Deadlines that cannot silently zero a term (issue 21, item 2).

The shipped rubric leaves every deadline unset: a batch graded today, then ``final``, gives the
homework its points and says that no deadline is set. A rubric still carrying last term's dates
keeps its penalties, but ``final`` and ``batch`` warn and name the field to edit.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.final.deadlines import PAST_TERM, batch_deadline_notes, deadline_notes
from autograder.final.rubric import load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "rubrics" / "course.toml"
NOW = datetime.now(UTC)


def stale_rubric_text() -> str:
    """The shipped rubric with last term's dates (autumn 2025) written in."""
    text = SHIPPED.read_text(encoding="utf-8").replace("# deadline = YYYY-", "deadline = 2025-")
    assert text.count("\ndeadline = 2025-") == 6
    return text


def rubric_with(late: str, deadline: str = "2026-03-01T12:00:00+00:00") -> str:
    return f"""
[course]
title = "T"
[final_grade]
divisor = 10
scale_max = 10
[[components]]
id = "hw1"
title = "Homework 1"
kind = "homework"
max_points = 15
deadline = {deadline}
late = {late}
[[components]]
id = "hw2"
title = "Homework 2"
kind = "homework"
max_points = 10
"""


def test_shipped_rubric_says_once_that_no_deadline_is_set() -> None:
    rubric = load_rubric(SHIPPED)
    notes = deadline_notes(rubric, {"hw1": [("s1", NOW), ("s2", None)]})
    assert notes.warnings == ()
    (notice,) = notes.notices
    assert f"no homework has a deadline in {SHIPPED}: no late penalty is applied" in notice
    assert "components[0] (id 'hw1').deadline" in notice
    assert "components[5] (id 'hw6').deadline" in notice


def test_last_terms_dates_warn_and_name_the_field() -> None:
    rubric = parse_rubric(stale_rubric_text(), "rubrics/course.toml")
    notes = deadline_notes(rubric, {"hw1": [("s1", NOW), ("s2", NOW - timedelta(days=1))]})
    (warning,) = notes.warnings
    assert warning.startswith("hw1: all 2 counted attempts score 0 under the late policy")
    assert "rubrics/course.toml: components[0] (id 'hw1').deadline" in warning
    assert "--times" in warning
    assert notes.notices == ()


def test_past_term_warning_without_a_zero_and_quiet_when_the_dates_fit() -> None:
    gentle = rubric_with('{ kind = "per_day", points_per_day = "0.01" }')
    rubric = parse_rubric(gentle, "course.toml")
    deadline = rubric.component("hw1").deadline
    late = [("s1", deadline + PAST_TERM + timedelta(days=3))]
    (warning,) = deadline_notes(rubric, {"hw1": late}).warnings
    assert f"more than {PAST_TERM.days} days after the deadline" in warning
    assert "course.toml: components[0] (id 'hw1').deadline" in warning
    # one student on time is enough: the dates are this term's
    fine = [*late, ("s2", deadline - timedelta(hours=2))]
    assert deadline_notes(rubric, {"hw1": fine}).warnings == ()
    # one homework dated, the other not: a notice for the undated one that has attempts
    notes = deadline_notes(rubric, {"hw1": fine, "hw2": [("s1", deadline)]})
    assert notes.notices == (
        "hw2: no deadline set (course.toml: components[1] (id 'hw2').deadline): no late penalty",
    )


def test_a_hard_cutoff_zeroing_everyone_warns() -> None:
    rubric = parse_rubric(rubric_with('{ kind = "cutoff" }'), "course.toml")
    deadline = rubric.component("hw1").deadline
    timed = [("s1", deadline + timedelta(days=2)), ("s2", deadline + timedelta(minutes=5))]
    (warning,) = deadline_notes(rubric, {"hw1": timed}).warnings
    assert "all 2 counted attempts score 0 under the late policy" in warning
    assert "the earliest came 0 days after it" in warning


class _Book:
    def __init__(self, attempts: dict) -> None:
        self._attempts = attempts

    def counted(self, assignment: str, policy: str = "latest") -> dict:
        return self._attempts


def test_batch_notes_come_from_the_course_rubric(tmp_path: Path) -> None:
    from types import SimpleNamespace

    graded = SimpleNamespace(student_id="s1", submitted_at=NOW, status="graded")
    book = _Book({"s1": graded})
    assert batch_deadline_notes(tmp_path, book, "hw1").notices == ()  # no rubric: nothing
    (notice,) = batch_deadline_notes(ROOT, book, "hw1").notices
    assert "hw1: no deadline set" in notice and "components[0] (id 'hw1').deadline" in notice
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "course.toml").write_text(stale_rubric_text())
    (warning,) = batch_deadline_notes(tmp_path, book, "hw1").warnings
    assert "components[0] (id 'hw1').deadline" in warning
    assert batch_deadline_notes(tmp_path, _Book({}), "hw1").warnings == ()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.slow
def test_batch_today_then_final_with_the_shipped_and_a_stale_rubric(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "reference_solutions" / "hw1.py", subs / "alice.py")
    db = tmp_path / "gradebook.sqlite"
    batch = ["batch", "hw1", str(subs), "--db", str(db), "--skip-benchmarks", "--workers", "1"]
    done = _cli(*batch, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "no deadline set (" in out and "components[0] (id 'hw1').deadline" in out
    assert "WARNING" not in out

    done = _cli("final", "--db", str(db), "--out", str(tmp_path / "final.csv"), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "no homework has a deadline" in out and "no late penalty is applied" in out
    assert "WARNING" not in out
    (row,) = csv.DictReader((tmp_path / "final.csv").open(encoding="utf-8", newline=""))
    assert row["student_id"] == "alice" and row["hw1"] == "13.5"  # the benchmark was skipped

    # last term's dates: the penalty applies as written, and both commands say why loudly
    course = tmp_path / "course"
    (course / "rubrics").mkdir(parents=True)
    (course / "rubrics" / "course.toml").write_text(stale_rubric_text())
    for folder in ("assignments", "reference_solutions"):
        (course / folder).symlink_to(ROOT / folder)
    rubric = str(course / "rubrics" / "course.toml")
    done = _cli("final", "--db", str(db), "--rubric", rubric, "--out", "final.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "WARNING: hw1: its only counted attempt scores 0" in out
    assert f"{rubric}: components[0] (id 'hw1').deadline" in out
    (row,) = csv.DictReader((tmp_path / "final.csv").open(encoding="utf-8", newline=""))
    assert row["hw1"] == "0" and "more than 7, 0" in row["notes"]

    done = _cli(*batch, "--course", str(course), cwd=ROOT)  # already graded: nothing to run
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "WARNING: hw1: its only counted attempt scores 0" in out
    assert "components[0] (id 'hw1').deadline" in out
