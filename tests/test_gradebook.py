"""The SQLite gradebook: durability, uniqueness, counted attempts, adjustments, bad targets."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from report_factory import make_report, sha

from autograder.errors import GradebookError
from autograder.gradebook import (
    Gradebook,
    SqliteGradebook,
    current_gradings,
    open_gradebook,
    select_counted,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def book(tmp_path: Path):
    gb = open_gradebook(tmp_path / "gb.sqlite")
    yield gb
    gb.close()


def failure(book: Gradebook, student: str, sha256: str, reason: str = "zip without hw1.py") -> int:
    return book.record_failure(
        assignment="hw1",
        student_id=student,
        sha256=sha256,
        reason=reason,
        source="x.zip",
        submitted_at=T0,
        spec_hash="spec-1",
        grader_version="0.1.0",
    )


def test_new_gradebook_is_wal_with_a_schema_version(tmp_path: Path) -> None:
    open_gradebook(tmp_path / "gb.sqlite").close()
    raw = sqlite3.connect(tmp_path / "gb.sqlite")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    raw.close()


def test_record_round_trips_the_full_report_and_utc_times(book: Gradebook) -> None:
    report = make_report({"linear": Fraction(3, 2)})
    local = datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    attempt_id = book.record(report, student_id="alice", submitted_at=local, source="dir/alice.py")
    [attempt] = book.attempts("hw1", "alice")
    assert attempt.id == attempt_id
    assert attempt.status == "graded" and attempt.report == report
    assert attempt.score == Fraction(2) + Fraction(3, 2) + Fraction(5, 2)
    assert attempt.max_score == Fraction(15, 2)
    assert attempt.submitted_at == T0 and attempt.submitted_at.tzinfo == UTC
    assert attempt.started_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert attempt.seconds == 1.5 and attempt.source == "dir/alice.py"
    assert attempt.graded_at.tzinfo == UTC


def test_the_same_submission_is_stored_once(book: Gradebook) -> None:
    report = make_report(sha256=sha("a"))
    first = book.record(report, student_id="alice", submitted_at=T0, source="a")
    again = book.record(report, student_id="alice", submitted_at=T0, source="a")
    assert first == again and len(book.attempts()) == 1
    # Another spec or grader version is another attempt (history is kept).
    book.record(
        make_report(sha256=sha("a"), spec_hash="spec-2"),
        student_id="alice",
        submitted_at=T0,
        source="a",
    )
    book.record(
        make_report(sha256=sha("a"), grader_version="0.2.0"),
        student_id="alice",
        submitted_at=T0,
        source="a",
    )
    assert len(book.attempts("hw1", "alice")) == 3


def test_a_regrade_replaces_a_grade_but_a_failure_never_does(book: Gradebook) -> None:
    old = make_report({"softmax": Fraction(0)}, sha256=sha("a"))
    attempt_id = book.record(old, student_id="alice", submitted_at=T0, source="a")
    assert failure(book, "alice", sha("a"), "grader crashed") == attempt_id
    [kept] = book.attempts()
    assert kept.status == "graded" and kept.score == Fraction(11, 2)
    new = make_report(sha256=sha("a"))
    assert book.record(new, student_id="alice", submitted_at=T0, source="a") == attempt_id
    assert book.attempts()[0].score == Fraction(15, 2)


def test_a_failure_is_replaced_by_a_later_grade_and_is_not_graded(book: Gradebook) -> None:
    key = dict(
        assignment="hw1",
        student_id="bob",
        sha256=sha("b"),
        spec_hash="spec-1",
        grader_version="0.1.0",
    )
    failure(book, "bob", sha("b"), "first reason")
    failure(book, "bob", sha("b"), "second reason")
    [only] = book.attempts()
    assert only.reason == "second reason" and only.report is None and only.score == 0
    assert not book.is_graded(**key)
    book.record(make_report(sha256=sha("b")), student_id="bob", submitted_at=T0, source="b")
    assert book.is_graded(**key) and len(book.attempts()) == 1
    assert not book.is_graded(**{**key, "spec_hash": "spec-2"})
    assert not book.is_graded(**{**key, "grader_version": "9"})


def test_a_grader_error_report_is_a_failure_to_grade(book: Gradebook) -> None:
    report = make_report(
        sha256=sha("c"),
        submission_status="grader error",
        submission_message="worker protocol broken",
    )
    book.record(report, student_id="carol", submitted_at=None, source="c")
    [attempt] = book.attempts()
    assert attempt.status == "failed to grade" and attempt.reason == "worker protocol broken"
    assert attempt.score == 0 and attempt.report == report
    assert not book.is_graded(
        assignment="hw1",
        student_id="carol",
        sha256=sha("c"),
        spec_hash="spec-1",
        grader_version="0.1.0",
    )


def test_counted_latest_and_best(book: Gradebook) -> None:
    good = make_report(sha256=sha("good"))
    worse_later = make_report({"linear": Fraction(0)}, sha256=sha("later"))
    book.record(good, student_id="alice", submitted_at=T0, source="1")
    book.record(worse_later, student_id="alice", submitted_at=T0 + timedelta(hours=1), source="2")
    # A later failure to grade does not hide a graded attempt.
    failure(book, "alice", sha("broken"))
    failure(book, "dave", sha("d"))
    latest = book.counted("hw1")
    assert list(latest) == ["alice", "dave"]
    assert latest["alice"].sha256 == sha("later")
    assert latest["dave"].status == "failed to grade"
    assert book.counted("hw1", "best")["alice"].sha256 == sha("good")
    with pytest.raises(ValueError):
        book.counted("hw1", "worst")  # type: ignore[arg-type]


def test_latest_falls_back_to_grading_time(book: Gradebook) -> None:
    book.record(make_report(sha256=sha("1")), student_id="erin", submitted_at=None, source="1")
    book.record(
        make_report({"init": 0}, sha256=sha("2")), student_id="erin", submitted_at=None, source="2"
    )
    assert book.counted("hw1")["erin"].sha256 == sha("2")
    attempts = book.attempts("hw1")
    assert select_counted(list(reversed(attempts)))["erin"].sha256 == sha("2")


def test_adjustments_are_exact_and_filtered(book: Gradebook) -> None:
    book.record(make_report(), student_id="alice", submitted_at=T0, source="a")
    first = book.add_adjustment(
        assignment="hw1",
        student_id="alice",
        task_id="linear",
        points=Fraction(5, 2),
        reason="typo in spec",
        author="ta1",
    )
    book.add_adjustment(
        assignment="hw2",
        student_id="alice",
        task_id="x",
        points=Fraction(1),
        reason="r",
        author="ta2",
    )
    [adj] = book.adjustments("hw1", "alice")
    assert adj.id == first and adj.points == "5/2" and adj.points_exact == Fraction(5, 2)
    assert adj.reason == "typo in spec" and adj.author == "ta1"
    assert adj.created_at.tzinfo == UTC
    assert len(book.adjustments()) == 2 and book.adjustments(student_id="bob") == []


def test_students_and_assignments(book: Gradebook) -> None:
    book.record(make_report(), student_id="zoe", submitted_at=T0, source="z")
    book.record(make_report(assignment="hw2"), student_id="adam", submitted_at=T0, source="a")
    assert book.students() == ["adam", "zoe"] and book.assignments() == ["hw1", "hw2"]
    assert isinstance(book, Gradebook)


def test_reopening_resumes_and_a_second_connection_reads_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"
    writer = open_gradebook(path)
    writer.record(make_report(sha256=sha("1")), student_id="a", submitted_at=T0, source="1")
    reader = open_gradebook(
        f"sqlite:///{path}".replace("sqlite:///", "sqlite:////", 1) if path.is_absolute() else path
    )
    assert len(reader.attempts()) == 1
    writer.record(make_report(sha256=sha("2")), student_id="b", submitted_at=T0, source="2")
    assert len(reader.attempts()) == 2
    writer.close()
    reader.close()
    again = open_gradebook(path)
    assert [a.student_id for a in again.attempts()] == ["a", "b"]
    again.close()


def test_a_process_killed_mid_transaction_leaves_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from report_factory import make_report, sha
        from autograder.gradebook import open_gradebook
        book = open_gradebook({str(path)!r})
        book.record(make_report(sha256=sha("kept")), student_id="a", submitted_at=None, source="k")
        with book._write("test") as conn:
            conn.execute("INSERT INTO adjustments (assignment, student_id, task_id, points, "
                         "reason, author, created_at) VALUES ('hw1','a','t','1','r','me','now')")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    book = open_gradebook(path)
    assert [a.student_id for a in book.attempts()] == ["a"]
    assert book.adjustments() == []
    book.close()


def test_a_full_disk_is_a_clear_error_and_keeps_what_was_recorded(tmp_path: Path) -> None:
    book = SqliteGradebook(tmp_path / "gb.sqlite")
    book.record(make_report(sha256=sha("0")), student_id="s0", submitted_at=T0, source="0")
    pages = book._conn.execute("PRAGMA page_count").fetchone()[0]
    book._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    with pytest.raises(GradebookError, match="full.*free disk space") as info:
        for i in range(1, 200):
            book.record(
                make_report(sha256=sha(str(i))),
                student_id=f"s{i}",
                submitted_at=T0,
                source="x" * 5000,
            )
    assert "gb.sqlite" in str(info.value)
    book.close()
    reopened = open_gradebook(tmp_path / "gb.sqlite")
    attempts = reopened.attempts()
    assert attempts[0].student_id == "s0"
    assert all(a.report is not None for a in attempts)
    reopened.close()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("postgresql://ta@db/grades", "not supported yet: install"),
        ("ftp://x", "unknown scheme"),
        ("sqlite://relative.sqlite", "expected sqlite:///"),
        ("{tmp}/missing/gb.sqlite", "does not exist"),
    ],
)
def test_bad_targets_are_clear_errors(tmp_path: Path, target: str, message: str) -> None:
    with pytest.raises(GradebookError, match=message):
        open_gradebook(target.format(tmp=tmp_path))


def test_sqlite_url_and_create_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GradebookError, match="does not exist"):
        open_gradebook("gb.sqlite", create=False)
    open_gradebook("sqlite:///gb.sqlite").close()
    assert (tmp_path / "gb.sqlite").is_file()
    open_gradebook(f"sqlite:///{tmp_path / 'gb.sqlite'}", create=False).close()


def test_not_a_gradebook_or_a_newer_one(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GradebookError, match="junk.sqlite.*not a database"):
        open_gradebook(junk)
    newer = tmp_path / "newer.sqlite"
    open_gradebook(newer).close()
    raw = sqlite3.connect(newer)
    raw.execute("UPDATE schema_version SET version = 99")
    raw.commit()
    raw.close()
    with pytest.raises(GradebookError, match="newer autograder"):
        open_gradebook(newer)


def test_only_the_newest_grading_of_a_file_counts(book: Gradebook) -> None:
    # A lenient old spec gave full marks; the fixed spec gives less for the same file.
    book.record(make_report(sha256=sha("f")), student_id="fay", submitted_at=T0, source="f")
    book.record(
        make_report({"init": 0}, sha256=sha("f"), spec_hash="spec-2"),
        student_id="fay",
        submitted_at=T0,
        source="f",
    )
    # Another file, graded once under the old spec only, scores in between.
    book.record(
        make_report({"softmax": 1}, sha256=sha("g"), spec_hash="spec-1"),
        student_id="fay",
        submitted_at=T0 - timedelta(days=1),
        source="g",
    )
    assert book.counted("hw1")["fay"].spec_hash == "spec-2"
    best = book.counted("hw1", "best")["fay"]
    assert best.sha256 == sha("g")  # 13/2 beats the regraded 5, never the stale 15/2
    # A failure to regrade a file does not hide its grade.
    book.record_failure(
        assignment="hw1",
        student_id="fay",
        sha256=sha("g"),
        reason="crash",
        source="g",
        submitted_at=None,
        spec_hash="spec-3",
        grader_version="0.1.0",
    )
    assert len(book.attempts("hw1", "fay")) == 4
    assert len(current_gradings(book.attempts("hw1", "fay"))) == 2
    assert book.counted("hw1", "best")["fay"].sha256 == sha("g")
