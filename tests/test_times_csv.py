"""The LMS export of submission times (``batch --times``): read like the exam CSV, validated
line by line, every problem at once, and nothing graded when there is one."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.batch.times_csv import parse_times_csv, read_times_csv, time_zone
from autograder.errors import TimesCSVError

ROOT = Path(__file__).resolve().parent.parent


def test_accepted_forms() -> None:
    text = (
        "sep=;\r\nName;Student_ID;Submitted_At\r\nAnn;ann;2026-10-05T23:59:00+03:00\r\n"
        "\r\nBob;bob;2026-10-05 20:00:00Z\r\n"
    )
    times = parse_times_csv(text, "lms.csv")
    assert times == {
        "ann": datetime(2026, 10, 5, 23, 59, tzinfo=timezone(timedelta(hours=3))),
        "bob": datetime(2026, 10, 5, 20, 0, tzinfo=UTC),
    }
    named = parse_times_csv(
        "Username,When\nann,2026-10-05 23:59\n",
        "x.csv",
        ("Username", "When"),
        time_zone("Europe/Moscow"),
    )
    assert named["ann"].utcoffset() == timedelta(hours=3)


def test_every_problem_is_located_at_once() -> None:
    text = (
        "student_id,submitted_at\n"
        "ann,2026-10-05T23:59:00+03:00\n"
        "bob,yesterday\n"
        "ann,2026-10-06T10:00:00Z\n"
        "cat,2026-10-05 23:59\n"
        ".hidden,2026-10-05T23:59:00Z\n"
        "dan\n"
    )
    with pytest.raises(TimesCSVError) as info:
        parse_times_csv(text, "lms.csv")
    lines = str(info.value).splitlines()
    assert lines[0] == "lms.csv: 5 problems, nothing graded:"
    assert lines[1] == "lms.csv:3: time 'yesterday' is not an ISO 8601 date and time"
    assert lines[2] == "lms.csv:4: student 'ann' again (first at line 2)"
    assert lines[3].startswith("lms.csv:5: time '2026-10-05 23:59' has no UTC offset")
    assert lines[4] == "lms.csv:6: student id '.hidden' starts with '.'"
    assert lines[5] == "lms.csv:7: 1 cells, too few for the header"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "lms.csv:1: the file is empty"),
        (
            "id,time\nann,2026-10-05T23:59:00Z\n",
            "lms.csv:1: no single column named student_id or submitted_at",
        ),
        ("student_id,student_id,submitted_at\n", "no single column named student_id"),
    ],
)
def test_header_problems(text: str, message: str) -> None:
    with pytest.raises(TimesCSVError, match=message):
        parse_times_csv(text, "lms.csv")


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(TimesCSVError, match="file of submission times not found"):
        read_times_csv(tmp_path / "missing.csv")
    (tmp_path / "latin1.csv").write_bytes(
        b"student_id,submitted_at\nj\xe9r\xf4me,2026-10-05T20:00:00Z\n"
    )
    with pytest.raises(TimesCSVError, match=r"latin1.csv:2: not UTF-8 text"):
        read_times_csv(tmp_path / "latin1.csv")
    with pytest.raises(TimesCSVError, match="unknown time zone 'Mars/Olympus'"):
        time_zone("Mars/Olympus")


def test_batch_refuses_a_bad_export_before_grading_anything(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.py").write_text("x = 1\n")
    (tmp_path / "lms.csv").write_text("student_id,submitted_at\nann,soon\n")
    db = tmp_path / "gradebook.sqlite"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "batch",
            "hw1",
            str(subs),
            "--db",
            str(db),
            "--times",
            str(tmp_path / "lms.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "lms.csv:2: time 'soon' is not an ISO 8601 date and time" in done.stderr
    assert "Traceback" not in done.stderr and not db.exists()
