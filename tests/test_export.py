"""Exports: the grade sheet, CSV (parsed back), JSON, Gradescope results.json files."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from report_factory import make_report, sha

from autograder.errors import AutograderError
from autograder.export import build_sheet, to_csv, to_json, write_gradescope
from autograder.export.files import atomic_write_text
from autograder.gradebook import open_gradebook

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def book(tmp_path: Path):
    gb = open_gradebook(tmp_path / "gb.sqlite")
    gb.record(make_report(sha256=sha("a")), student_id="alice", submitted_at=T0, source="a.py")
    gb.record(make_report(sha256=sha("b1")), student_id="bob", submitted_at=T0, source="b1")
    gb.record(
        make_report({"linear": Fraction(1, 3), "init": Fraction(0)}, sha256=sha("b2")),
        student_id="bob",
        submitted_at=T0 + timedelta(days=1),
        source="b2",
    )
    gb.record_failure(
        assignment="hw1",
        student_id="carol",
        sha256=sha("c"),
        reason="2 files named hw1.py",
        source="carol",
        submitted_at=None,
        spec_hash="spec-1",
        grader_version="0.1.0",
    )
    gb.record_failure(
        assignment="hw1",
        student_id="?bad:id.py",
        sha256=sha("?"),
        reason="student id contains ':'",
        source="bad:id.py",
        submitted_at=None,
        spec_hash="spec-1",
        grader_version="0.1.0",
    )
    gb.record(make_report(sha256=sha("e")), student_id="=HYPERLINK(1)", submitted_at=T0, source="x")
    for points, reason in [(Fraction(2), "first try"), (Fraction(5, 2), "typo in the spec")]:
        gb.add_adjustment(
            assignment="hw1",
            student_id="bob",
            task_id="linear",
            points=points,
            reason=reason,
            author="ta1",
        )
    gb.add_adjustment(
        assignment="hw1",
        student_id="carol",
        task_id="softmax",
        points=Fraction(2),
        reason="graded by hand",
        author="ta2",
    )
    yield gb
    gb.close()


def test_the_sheet_applies_the_newest_override(book) -> None:
    sheet = build_sheet(book, "hw1")
    assert [t.id for t in sheet.tasks] == ["softmax", "linear", "init"]
    assert sheet.max_score == Fraction(15, 2)
    students = {s.student_id: s for s in sheet.students}
    assert list(students) == ["=HYPERLINK(1)", "alice", "bob", "carol"]
    bob = students["bob"]
    linear = bob.tasks[1]
    assert linear.score == Fraction(5, 2) and linear.original_exact == "1/3"
    assert linear.adjustment.reason == "typo in the spec"
    assert bob.total == Fraction(2) + Fraction(5, 2)
    carol = students["carol"]
    assert carol.status == "failed to grade" and carol.total == 2
    assert [t.score for t in carol.tasks] == [2, None, None]
    assert [a.student_id for a in sheet.unidentified] == ["?bad:id.py"]
    best = {s.student_id: s for s in build_sheet(book, "hw1", "best").students}
    # The best attempt (full marks) with linear overridden from 3 to 5/2.
    assert best["bob"].attempt.source == "b1" and best["bob"].total == 7


def test_csv_parses_back_one_row_per_student(book) -> None:
    text = to_csv(build_sheet(book, "hw1"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "student_id",
        "softmax",
        "linear",
        "init",
        "total",
        "max_score",
        "status",
        "submitted_at",
        "notes",
    ]
    table = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert list(table) == ["'=HYPERLINK(1)", "alice", "bob", "carol"]  # no formula, no '?'
    assert table["alice"]["total"] == "7.5" and table["alice"]["init"] == "2.5"
    bob = table["bob"]
    assert (bob["softmax"], bob["linear"], bob["init"], bob["total"]) == ("2", "2.5", "0", "4.5")
    assert bob["notes"] == "linear set to 2.5 (was 0.3333) by ta1: typo in the spec"
    assert bob["submitted_at"] == "2025-03-02T12:00:00+00:00"
    carol = table["carol"]
    assert (carol["softmax"], carol["linear"], carol["total"]) == ("2", "", "2")
    assert carol["status"] == "failed to grade"
    assert carol["notes"].startswith("failed to grade: 2 files named hw1.py; softmax set to 2")


def test_json_export(book) -> None:
    data = json.loads(to_json(build_sheet(book, "hw1")))
    assert data["assignment"] == "hw1" and data["max_score_exact"] == "15/2"
    bob = next(s for s in data["students"] if s["student_id"] == "bob")
    assert bob["score_exact"] == "9/2" and bob["score"] == 4.5
    assert bob["tasks"][1]["adjustment"]["reason"] == "typo in the spec"
    assert bob["attempt"]["source"] == "b2" and "report" not in bob["attempt"]
    assert data["unidentified"][0]["reason"] == "student id contains ':'"


def test_gradescope_results_follow_the_schema(book, tmp_path: Path) -> None:
    out = tmp_path / "gs"
    paths = write_gradescope(build_sheet(book, "hw1"), out)
    assert sorted(p.parent.name for p in paths) == ["=HYPERLINK(1)", "alice", "bob", "carol"]
    assert sorted(p.name for p in out.iterdir()) == ["=HYPERLINK(1)", "alice", "bob", "carol"]
    bob = json.loads((out / "bob" / "results.json").read_text())
    assert set(bob) == {"score", "max_score", "execution_time", "output", "tests"}
    assert bob["score"] == 4.5 and bob["max_score"] == 7.5 and bob["execution_time"] == 1.5
    for test in bob["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
    softmax, linear, init = bob["tests"]
    assert softmax["status"] == "passed" and softmax["visibility"] == "visible"
    assert init["status"] == "failed" and init["visibility"] == "after_published"
    assert linear["score"] == 2.5 and linear["status"] == "failed"
    assert "Adjusted by course staff to 2.5 (was 0.3333): typo in the spec" in linear["output"]
    carol = json.loads((out / "carol" / "results.json").read_text())
    assert carol["output"].startswith("Your submission could not be graded automatically")
    assert carol["score"] == 2.0
    assert not list(out.rglob("*.tmp"))


def test_gradescope_needs_a_folder(book, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(AutograderError, match="not a folder"):
        write_gradescope(build_sheet(book, "hw1"), tmp_path / "file")


def test_atomic_writes_replace_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "grades.csv"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["grades.csv"]
    with pytest.raises(AutograderError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "x.csv", "x")


def test_an_empty_assignment_is_an_empty_sheet(book) -> None:
    sheet = build_sheet(book, "hw9")
    assert sheet.students == [] and sheet.tasks == []
    assert to_csv(sheet).splitlines() == ["student_id,total,max_score,status,submitted_at,notes"]


def cli(*argv: str) -> tuple[int, str]:
    """Run one of this module's commands in-process; returns (exit code, console text)."""
    import argparse

    from rich.console import Console

    from autograder.commands import adjust, export

    parser = argparse.ArgumentParser(prog="autograder")
    sub = parser.add_subparsers()
    for module in (export, adjust):
        module.register(sub)
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    return args.func(args, Console(file=out, width=200)), out.getvalue()


def test_export_command_csv_to_stdout_and_file(book, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "gb.sqlite")
    code, messages = cli("export", "--db", db, "--assignment", "hw1")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert code == 0 and rows[0][0] == "student_id" and len(rows) == 5
    assert "1 submissions with no valid student id are not exported" in messages
    code, messages = cli(
        "export",
        "--db",
        db,
        "--assignment",
        "hw1",
        "--format",
        "json",
        "--out",
        str(tmp_path / "g.json"),
    )
    assert json.loads((tmp_path / "g.json").read_text())["assignment"] == "hw1"
    assert f"wrote {tmp_path / 'g.json'}: 4 students" in messages
    cli(
        "export",
        "--db",
        db,
        "--assignment",
        "hw1",
        "--format",
        "gradescope",
        "--out",
        str(tmp_path / "gs"),
    )
    assert (tmp_path / "gs" / "alice" / "results.json").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--assignment", "hw1", "--format", "gradescope"], "needs --out DIR"),
        (["--assignment", "hw7"], "'hw7' has no attempts in .* \\(it has: hw1\\)"),
    ],
)
def test_export_command_errors(book, tmp_path: Path, argv: list[str], message: str) -> None:
    with pytest.raises(AutograderError, match=message):
        cli("export", "--db", str(tmp_path / "gb.sqlite"), *argv)


def test_export_never_creates_a_gradebook(tmp_path: Path) -> None:
    with pytest.raises(AutograderError, match="does not exist"):
        cli("export", "--db", str(tmp_path / "nope.sqlite"), "--assignment", "hw1")
    assert not (tmp_path / "nope.sqlite").exists()


def test_adjust_command_overrides_what_exports_show(book, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "gb.sqlite")
    code, out = cli(
        "adjust",
        "--db",
        db,
        "hw1",
        "alice",
        "linear",
        "5/4",
        "--reason",
        "late-day waiver",
        "--author",
        "prof",
    )
    assert code == 0 and "hw1/alice/linear: 3 -> 1.25 (late-day waiver); adjustment #" in out
    code, out = cli("adjust", "--db", db, "hw1", "alice", "init", "1", "--reason", "style")
    cli("export", "--db", db, "--assignment", "hw1")
    rows = {r[0]: r for r in csv.reader(io.StringIO(capsys.readouterr().out))}
    assert rows["alice"][1:5] == ["2", "1.25", "1", "4.25"]
    assert "linear set to 1.25 (was 3) by prof: late-day waiver" in rows["alice"][8]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hw1", "zed", "linear", "1"], "student 'zed' has no attempt for 'hw1'"),
        (["hw1", "alice", "lineer", "1"], "no task 'lineer' \\(tasks: softmax, linear, init\\)"),
        (["hw1", "alice", "linear", "1", "--reason", "  "], "--reason must say why"),
        (["hw1", "alice", "init", "5/2"], None),
        (
            ["hw1", "alice", "init", "2.6"],
            "2.6 is above the maximum of task 'init' \\(2.5 points\\)",
        ),
    ],
)
def test_adjust_command_errors(book, tmp_path: Path, argv: list[str], message: str | None) -> None:
    if "--reason" not in argv:
        argv = [*argv, "--reason", "r"]
    if message is None:  # the boundary itself is allowed
        assert cli("adjust", "--db", str(tmp_path / "gb.sqlite"), *argv)[0] == 0
        return
    with pytest.raises(AutograderError, match=message):
        cli("adjust", "--db", str(tmp_path / "gb.sqlite"), *argv)


@pytest.mark.parametrize("points", ["-1", "two", "1/0"])
def test_adjust_rejects_bad_points(book, tmp_path: Path, points: str, capsys) -> None:
    with pytest.raises(SystemExit):
        cli(
            "adjust",
            "--db",
            str(tmp_path / "gb.sqlite"),
            "hw1",
            "alice",
            "linear",
            points,
            "--reason",
            "r",
        )
    assert "points" in capsys.readouterr().err
