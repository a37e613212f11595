"""Final grades: exact arithmetic and rounding, the exam CSV, late policy, adjustments, the join,
final.csv, the breakdown, and one end-to-end run of ``python -m autograder final``."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from autograder.errors import ExamCSVError, GradebookError, OutputError, SpecError
from autograder.final.compute import compute_final_grades, load_final_grades
from autograder.final.exam_csv import parse_exam_csv, read_exam_csv
from autograder.final.final_csv import final_rows, write_final_csv
from autograder.final.grade_rule import final_grade
from autograder.final.late import apply_late_policy, days_late
from autograder.final.rubric import load_rubric, parse_rubric
from autograder.gradebook.models import Adjustment, Attempt, select_counted
from autograder.points import decimal_text, fraction_str, round_half_up
from autograder.report import Report, TaskResult
from autograder.views.breakdown import render_breakdown

ROOT = Path(__file__).resolve().parent.parent
UTC = UTC
F = Fraction

RUBRIC = parse_rubric(
    """
[course]
title = "Test course"
max_points = 115

[final_grade]
divisor = 10
rounding = "half_up"
cap = 10
scale_max = 10

[[components]]
id = "hw1"
title = "Homework 1"
kind = "homework"
max_points = 15
deadline = 2025-10-05T23:59:00+03:00
grace_minutes = 15
late = { kind = "per_day", points_per_day = 2, max_days = 3 }

[[components]]
id = "hw2"
title = "Homework 2"
kind = "homework"
max_points = 10
deadline = 2025-10-19T23:59:00+03:00
late = { kind = "cutoff" }

[[components]]
id = "hw3"
title = "Homework 3"
kind = "homework"
max_points = 15
deadline = 2025-11-09T23:59:00+03:00
late = { kind = "per_day", fraction_per_day = "1/10" }

[[components]]
id = "hw4"
title = "Homework 4"
kind = "homework"
max_points = 15
deadline = 2025-11-23T23:59:00+03:00
late = { kind = "cutoff" }

[[components]]
id = "hw5"
title = "Homework 5"
kind = "homework"
max_points = 10
deadline = 2025-12-07T23:59:00+03:00
late = { kind = "cutoff" }

[[components]]
id = "hw6"
title = "Homework 6"
kind = "homework"
max_points = 10
deadline = 2025-12-21T23:59:00+03:00
late = { kind = "cutoff" }

[[components]]
id = "exam"
title = "Exam"
kind = "exam"
max_points = 40

[[extensions]]
student_id = "ext"
component = "hw1"
extra_days = 2
reason = "medical certificate"

[[extensions]]
student_id = "ext"
component = "hw2"
deadline = 2025-10-25T12:00:00+00:00
""",
    "test-rubric.toml",
)
HW1_DEADLINE = RUBRIC.component("hw1").deadline


# -- building gradebook rows --------------------------------------------------------------


def report(assignment: str, tasks: list[tuple[str, Fraction, Fraction]]) -> Report:
    """A report with (task id, score, max) tasks; scores are exact."""
    results = [
        TaskResult(
            id=tid,
            title=tid,
            symbols=[tid],
            visibility="public",
            score=float(got),
            max_score=float(top),
            score_exact=fraction_str(got),
            max_score_exact=fraction_str(top),
            status="passed" if got == top else "partial",
            message="",
            checks=[],
        )
        for tid, got, top in tasks
    ]
    total = sum((got for _, got, _ in tasks), F(0))
    maximum = sum((top for _, _, top in tasks), F(0))
    digest = hashlib.sha256(repr((assignment, tasks)).encode()).hexdigest()
    return Report(
        assignment=assignment,
        title=assignment,
        submission=f"{assignment}.py",
        sha256=digest,
        score=float(total),
        max_score=float(maximum),
        score_exact=fraction_str(total),
        max_score_exact=fraction_str(maximum),
        tasks=results,
        grader_version="test",
        spec_hash="spec",
        started_at="2025-10-01T00:00:00+00:00",
        finished_at="2025-10-01T00:00:01+00:00",
        seconds=1.0,
    )


def split(total: Fraction, n: int = 3) -> list[tuple[str, Fraction, Fraction]]:
    """``total`` out of ``n`` equal-max tasks, as thirds: t1 gets 1/3 of it, and so on."""
    weights = [1, 2, 3][:n]
    scores = [total * w / sum(weights) for w in weights]
    return [(f"t{i}", s, s) for i, s in enumerate(scores)]


def full(assignment: str, score: Fraction | None = None) -> list[tuple[str, Fraction, Fraction]]:
    """Tasks for a homework worth its rubric max, scoring ``score`` (default: full)."""
    top = RUBRIC.component(assignment).max_points
    score = top if score is None else F(score)
    return [("t0", score * F(1, 3), top * F(1, 3)), ("t1", score * F(2, 3), top * F(2, 3))]


class FakeGradebook:
    """In-memory gradebook with the reading methods final grades use."""

    def __init__(self) -> None:
        self._attempts: list[Attempt] = []
        self._adjustments: list[Adjustment] = []

    def add(self, student, assignment, tasks=None, *, submitted_at=None, failed=None) -> Attempt:
        rep = report(assignment, tasks if tasks is not None else full(assignment))
        attempt = Attempt(
            id=len(self._attempts) + 1,
            assignment=assignment,
            student_id=student,
            sha256=rep.sha256,
            status="failed to grade" if failed else "graded",
            reason=failed or "",
            score_exact="0" if failed else rep.score_exact,
            max_score_exact="0" if failed else rep.max_score_exact,
            report=None if failed else rep,
            submitted_at=submitted_at,
            graded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=len(self._attempts)),
            grader_version="test",
            spec_hash="spec",
            source=f"{student}/{assignment}.py",
        )
        self._attempts.append(attempt)
        return attempt

    def adjust(self, student, assignment, task_id, points, reason="regrade", author="ta") -> None:
        self._adjustments.append(
            Adjustment(
                id=len(self._adjustments) + 1,
                assignment=assignment,
                student_id=student,
                task_id=task_id,
                points=fraction_str(F(points)),
                reason=reason,
                author=author,
                created_at=datetime(2026, 1, 2, tzinfo=UTC),
            )
        )

    def attempts(self, assignment=None, student_id=None):
        return [
            a
            for a in self._attempts
            if assignment in (None, a.assignment) and student_id in (None, a.student_id)
        ]

    def counted(self, assignment, policy="latest"):
        return select_counted(self.attempts(assignment), policy)

    def students(self):
        return sorted({a.student_id for a in self._attempts})

    def assignments(self):
        return sorted({a.assignment for a in self._attempts})

    def adjustments(self, assignment=None, student_id=None):
        return [
            a
            for a in self._adjustments
            if assignment in (None, a.assignment) and student_id in (None, a.student_id)
        ]


def exam_of(rows: str, known=None):
    return parse_exam_csv("student_id,points\n" + rows, "exam.csv", F(40), known)


def grade_of(gradebook, exam_rows="", student="s1", policy="latest"):
    grades = compute_final_grades(RUBRIC, gradebook, exam_of(exam_rows), policy)
    return grades, grades.student(student)


# -- rounding, exact sums and the cap ---------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade", "rounded"),
    [
        (F(849, 10), 8, 8),
        (F(845, 10), 8, 8),
        (F(85), 9, 9),
        (F(95), 10, 10),
        (F(100), 10, 10),
        (F(105), 10, 11),
        (F(115), 10, 12),
        (F(0), 0, 0),
        (F(849999, 10000), 8, 8),
    ],
)
def test_final_grade_examples(total, grade, rounded):
    result = final_grade(total, RUBRIC.final_grade)
    assert (result.grade, result.rounded, result.total) == (grade, rounded, total)
    assert result.capped == (rounded > 10)


def test_cap_is_a_rubric_setting_and_the_explanation_is_exact():
    capped = final_grade(F(115), RUBRIC.final_grade)
    assert capped.explain() == "115 / 10 = 11.5 -> rounded half up: 12 -> capped at 10"
    uncapped = RUBRIC.final_grade.model_copy(update={"cap": None})
    assert final_grade(F(115), uncapped).grade == 12
    thirds = final_grade(F(256, 3), RUBRIC.final_grade)
    assert thirds.explain() == "256/3 (~85.3333) / 10 = 128/15 (~8.5333) -> rounded half up: 9"


@given(st.integers(0, 10**6), st.integers(1, 10**4))
def test_round_half_up_matches_decimal_half_up(numerator, denominator):
    # n/d is at least 1/(2d) away from any half unless exactly on it, so 28 digits decide
    expected = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP)
    assert round_half_up(F(numerator, denominator)) == int(expected)


@given(st.integers(0, 200))
def test_halves_always_round_up(k):
    assert round_half_up(F(2 * k + 1, 2)) == k + 1  # 0.5 -> 1, 8.5 -> 9, 9.5 -> 10: never to even


HOMEWORKS = [c for c in RUBRIC.components if c.kind == "homework"]
HOMEWORK_MAX = sum((c.max_points for c in HOMEWORKS), F(0))  # 75


@settings(max_examples=60, deadline=None)
@given(
    target=st.sampled_from([F(0), F(849, 10), F(85), F(95), F(100), F(115)]),
    exam_wish=st.sampled_from([F(0), F(25, 2), F(30), F(40)]),
    task_weights=st.lists(st.integers(1, 97), min_size=3, max_size=3),
    shift=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 7)),
)
def test_totals_reached_from_fractional_task_scores(target, exam_wish, task_weights, shift):
    """Totals reached as sums of fractional task scores (17/53 of a share...) land exactly."""
    exam = max(min(exam_wish, target, F(40)), target - HOMEWORK_MAX)
    rest = target - exam
    shares = {c.id: c.max_points * rest / HOMEWORK_MAX for c in HOMEWORKS}
    give, take, sevenths = HOMEWORKS[shift[0]].id, HOMEWORKS[shift[1]].id, shift[2]
    moved = min(shares[take], RUBRIC.component(give).max_points - shares[give]) * F(sevenths, 7)
    shares[take] -= moved
    shares[give] += moved
    book = FakeGradebook()
    weight = sum(task_weights)
    for c in HOMEWORKS:
        tasks = [
            (f"t{i}", shares[c.id] * w / weight, c.max_points * w / weight)
            for i, w in enumerate(task_weights)
        ]
        book.add("s1", c.id, tasks)
    grades, student = grade_of(book, f"s1,{decimal_text(exam)}\n")
    assert student.total == target
    assert student.final.grade == {0: 0, 85: 9, 95: 10, 100: 10, 115: 10}.get(target, 8)
    assert student.final.rounded == round_half_up(target / 10)
    assert student.final.capped == (target == 115)
    header, row = final_rows(grades)
    assert dict(zip(header, row, strict=True))["final_grade"] == str(student.final.grade)


def test_binary_floats_would_have_rounded_85_down():
    """Why exact: seven scores of 85/7 as floats add up to 84.99999999999999."""
    parts = [F(85, 7)] * 7
    assert round_half_up(F(sum(float(p) for p in parts)) / 10) == 8
    assert final_grade(sum(parts, F(0)), RUBRIC.final_grade).grade == 9


@settings(max_examples=200)
@given(st.fractions(min_value=0, max_value=115, max_denominator=1000))
def test_cap_property(total):
    result = final_grade(total, RUBRIC.final_grade)
    assert 0 <= result.grade <= 10
    assert result.grade == min(round_half_up(total / 10), 10)
    assert result.capped == (total >= 105)
    assert result.total == total


# -- the exam CSV ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"student_id,points\ns1,35.5\ns2,40\n",
        b"\xef\xbb\xbfstudent_id;points\r\ns1;35,5\r\ns2;40\r\n\r\n\r\n",
        b"student_id;name;points\ns1;Doe, Jane;35,5\ns2;Roe;40;;\n\n",
        b"Points,Student_ID\n35.5,s1\n40,s2\n",
        b"student_id\tpoints\ns1\t35,5\ns2\t40\n",
        b'student_id;points\ns1;"35,5"\n\ns2;40\n   \n',
        b"sep=;\r\nstudent_id;points\r\ns1;35,5\r\ns2;40\r\n",
    ],
)
def test_exam_csv_accepted_forms(tmp_path, data):
    path = tmp_path / "exam.csv"
    path.write_bytes(data)
    results = read_exam_csv(path, F(40), known_students={"s1", "s2"})
    assert {k: v.points for k, v in results.results.items()} == {"s1": F(71, 2), "s2": F(40)}
    assert results.warnings == []


def test_blank_points_mean_no_result():
    results = exam_of("s1,\ns2,12\n")
    assert results.results["s1"].points is None and results.results["s2"].points == 12


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("student_id,points\ns1,abc\n", "exam.csv:2: points 'abc' is not a number"),
        ("student_id,points\ns1,NaN\n", "exam.csv:2: points 'NaN' is not a number"),
        ("student_id,points\ns1,1e1\n", "exam.csv:2: points '1e1' is not a number"),
        ("student_id,points\ns1,41\n", "exam.csv:2: points 41 out of range 0..40"),
        ("student_id,points\ns1,-1\n", "exam.csv:2: points -1 out of range 0..40"),
        ("student_id,points\ns1,40.01\n", "exam.csv:2: points 40.01 out of range 0..40"),
        (
            "student_id,points\ns1,3\ns2,4\ns1,5\n",
            "exam.csv:4: student 's1' again (first at line 2)",
        ),
        ("student_id,points\n,3\n", "exam.csv:2: student_id is empty"),
        (
            "student_id,points\ns1,35,5\n",
            "exam.csv:2: 3 cells, but the header has 2 (a decimal comma?",
        ),
        ("student_id;points\ns1\n", "exam.csv:2: 1 cells, but the header has 2"),
        ("student_id,score\ns1,3\n", "exam.csv:1: no points column (header 'student_id,score'"),
        ("id;points\ns1;3\n", "exam.csv:1: no student_id column"),
        ("student\n", "exam.csv:1: no student_id or points column"),
        ("student_id,points,points\ns1,3,4\n", "exam.csv:1: repeated column points"),
        ("\n\n", "exam.csv:1: the file is empty"),
        ("s1,35\ns2,40\n", "exam.csv:1: no student_id or points column"),
    ],
)
def test_exam_csv_errors_are_located(text, expected):
    with pytest.raises(ExamCSVError) as info:
        parse_exam_csv(text, "exam.csv", F(40), {"s1", "s2"})
    assert expected in str(info.value)


def test_every_exam_problem_is_reported_at_once():
    text = "student_id;points\ns1;abc\ns2;50\ns3;12,5\ns3;1\n;4\n\n"
    with pytest.raises(ExamCSVError) as info:
        parse_exam_csv(text, "exam.csv", F(40), None)
    lines = str(info.value).splitlines()
    assert lines[0] == "exam.csv: 4 problems, nothing written:"
    assert [line.split(":")[1] for line in lines[1:]] == ["2", "3", "5", "6"]


def test_exam_file_not_utf8_or_missing(tmp_path):
    path = tmp_path / "exam.csv"
    path.write_bytes(b"student_id,points\ns1,3\nJ\xf6rg,4\n")
    with pytest.raises(ExamCSVError, match=r"exam\.csv:3: not UTF-8"):
        read_exam_csv(path, F(40))
    with pytest.raises(ExamCSVError, match="exam file not found"):
        read_exam_csv(tmp_path / "none.csv", F(40))


def test_unknown_exam_students_are_warnings():
    results = exam_of("s1,3\nghost,4\n", known={"s1"})
    assert set(results.results) == {"s1", "ghost"}
    assert results.warnings == [
        "exam.csv:3: student 'ghost' has no homework in the gradebook (kept: exam only)"
    ]


# -- late policy ----------------------------------------------------------------------

HW1 = RUBRIC.component("hw1")  # 2 points per day started, max 3 days, 15 minutes of grace


@pytest.mark.parametrize(
    ("after_deadline", "days", "points"),
    [
        (timedelta(hours=-5), 0, F(12)),
        (timedelta(0), 0, F(12)),
        (timedelta(minutes=15), 0, F(12)),  # within grace
        (timedelta(minutes=16), 1, F(10)),  # one minute late
        (timedelta(days=1, minutes=15), 1, F(10)),
        (timedelta(days=1, minutes=16), 2, F(8)),
        (timedelta(days=2), 2, F(8)),
        (timedelta(days=3, minutes=15), 3, F(6)),
        (timedelta(days=3, minutes=16), 4, F(0)),  # past max_days
    ],
)
def test_per_day_penalty(after_deadline, days, points):
    got, late = apply_late_policy(RUBRIC, HW1, "s1", HW1_DEADLINE + after_deadline, F(12))
    assert (late.days_late, got, late.penalty) == (days, points, F(12) - points)
    assert late.zeroed == (days > 3)
    assert late.deadline == HW1_DEADLINE and late.deadline_source == "rubric"


def test_fraction_per_day_never_below_zero():
    hw3 = RUBRIC.component("hw3")  # 1/10 of 15 = 3/2 per day, no max_days
    when = hw3.deadline + timedelta(days=2)
    assert apply_late_policy(RUBRIC, hw3, "s1", when, F(10))[0] == 7
    assert apply_late_policy(RUBRIC, hw3, "s1", hw3.deadline + timedelta(days=30), F(10))[0] == 0


def test_hard_cutoff():
    hw2 = RUBRIC.component("hw2")
    assert apply_late_policy(RUBRIC, hw2, "s1", hw2.deadline, F(9))[0] == 9
    points, late = apply_late_policy(RUBRIC, hw2, "s1", hw2.deadline + timedelta(seconds=1), F(9))
    assert (points, late.days_late, late.zeroed) == (0, 1, True)
    assert "past the hard cut-off" in late.rule


def test_extensions_move_the_deadline():
    two_days = HW1_DEADLINE + timedelta(days=2)
    points, late = apply_late_policy(RUBRIC, HW1, "ext", two_days, F(12))
    assert (points, late.days_late) == (12, 0)
    assert late.deadline == two_days
    assert late.deadline_source == "extension (+2 days: medical certificate)"
    assert apply_late_policy(RUBRIC, HW1, "ext", two_days + timedelta(minutes=16), F(12))[0] == 10
    hw2 = RUBRIC.component("hw2")
    new = datetime(2025, 10, 25, 12, tzinfo=UTC)
    assert apply_late_policy(RUBRIC, hw2, "ext", new, F(9))[0] == 9
    assert apply_late_policy(RUBRIC, hw2, "ext", new + timedelta(minutes=1), F(9))[0] == 0


def test_unknown_or_naive_submission_times():
    points, late = apply_late_policy(RUBRIC, HW1, "s1", None, F(12))
    assert points == 12 and "unknown" in late.rule
    naive = (HW1_DEADLINE + timedelta(minutes=16)).astimezone(UTC).replace(tzinfo=None)
    assert days_late(naive, HW1_DEADLINE, 15) == 1


# -- the join: missing components, adjustments, policies ---------------------------------


def test_missing_homework_is_zero_and_flagged_and_exam_only_students_get_a_row():
    book = FakeGradebook()
    book.add("s1", "hw1")
    book.add("s1", "hw2", failed="worker crashed")
    grades, s1 = grade_of(book, "s1,30\nexamonly,25\n")
    assert s1.missing == ["hw2", "hw3", "hw4", "hw5", "hw6"]
    assert s1.total == 45 and s1.final.grade == 5  # 4.5 rounds up
    assert "hw2: failed to grade: worker crashed" in s1.notes()
    only = grades.student("examonly")
    assert only.total == 25 and only.missing == ["hw1", "hw2", "hw3", "hw4", "hw5", "hw6"]
    assert [s.student_id for s in grades.students] == ["examonly", "s1"]


def test_student_without_exam_row_is_flagged():
    book = FakeGradebook()
    book.add("s1", "hw1")
    grades, s1 = grade_of(book, "s1,\n")
    assert "exam" in s1.missing and s1.total == 15
    grades, s1 = grade_of(book, "")
    assert "exam" in s1.missing


def test_adjustments_override_task_scores_newest_wins():
    book = FakeGradebook()
    book.add("s1", "hw1", [("a", F(2), F(5)), ("b", F(1, 3), F(10))])
    book.adjust("s1", "hw1", "a", F(3), reason="partial credit", author="ana")
    book.adjust("s1", "hw1", "b", F(7, 3), reason="typo in test", author="bo")
    book.adjust("s1", "hw1", "b", F(20, 3), reason="regrade request", author="cy")
    grades, s1 = grade_of(book)
    hw1 = s1.components[0]
    assert hw1.autograder_score == F(7, 3) and hw1.points == hw1.adjusted_score == F(3 + F(20, 3))
    assert [(a.adjustment.author, a.before, a.in_force) for a in hw1.adjustments] == [
        ("ana", 2, True),
        ("bo", F(1, 3), False),
        ("cy", F(1, 3), True),
    ]
    notes = s1.notes()
    assert "hw1: task a 2 -> 3 by ana (partial credit)" in notes
    assert any("task b 1/3 (~0.3333) -> 20/3 (~6.6667) by cy (regrade request)" in n for n in notes)
    assert not any("bo" in n for n in notes)  # replaced, shown only in the breakdown


def test_adjustments_then_late_penalty():
    book = FakeGradebook()
    book.add(
        "s1",
        "hw1",
        [("a", F(5), F(5)), ("b", F(4), F(10))],
        submitted_at=HW1_DEADLINE + timedelta(days=1, hours=1),
    )
    book.adjust("s1", "hw1", "b", F(10))
    _, s1 = grade_of(book)
    hw1 = s1.components[0]
    assert (hw1.adjusted_score, hw1.lateness.days_late, hw1.points) == (15, 2, 11)
    assert any(
        n.startswith("hw1: 2 days late x 2 points per day (deadline 2025-10-05T23:59:00+03:00)")
        and n.endswith(": -4")
        for n in s1.notes()
    )


def test_adjustment_problems():
    book = FakeGradebook()
    book.add("s1", "hw1", [("a", F(4), F(5)), ("b", F(10), F(10))])
    book.adjust("s1", "hw1", "nope", F(3))
    grades, s1 = grade_of(book)
    assert s1.components[0].points == 14
    assert any("task 'nope' is not in the counted report" in w for w in grades.warnings)
    book.adjust("s1", "hw1", "b", F(20))
    with pytest.raises(
        GradebookError, match=r"hw1, s1: adjustments give 24 points, outside 0\.\.15"
    ):
        grade_of(book)
    book.adjust("s1", "hw1", "b", F(11, 2))  # a newer adjustment fixes it
    assert grade_of(book)[1].components[0].points == F(19, 2)


def test_adjustment_without_a_graded_attempt_gives_the_points():
    book = FakeGradebook()
    book.add("s1", "hw1", failed="timeout in the grader")
    book.adjust("s1", "hw1", "t0", F(4), reason="graded by hand")
    book.adjust("s1", "hw2", "t0", F(6), reason="paper submission")
    _, s1 = grade_of(book)
    assert [c.points for c in s1.components[:2]] == [4, 6]
    assert "hw1" not in s1.missing and "hw2" not in s1.missing


def test_attempt_out_of_other_points_than_the_rubric_is_an_error():
    book = FakeGradebook()
    book.add("s1", "hw2", [("t", F(5), F(12))])
    with pytest.raises(SpecError, match=r"out of 12 points, but test-rubric\.toml gives hw2 10"):
        grade_of(book)


def test_policies_latest_and_best_after_penalties():
    book = FakeGradebook()
    deadline = RUBRIC.component("hw1").deadline
    book.add("s1", "hw1", full("hw1", F(13)), submitted_at=deadline - timedelta(days=1))
    book.add("s1", "hw1", full("hw1", F(15)), submitted_at=deadline + timedelta(days=2))
    book.add("s1", "hw1", full("hw1", F(9)), submitted_at=deadline + timedelta(hours=-2))
    assert grade_of(book)[1].components[0].points == 11  # latest submission: 15, 2 days late
    best = grade_of(book, policy="best")[1].components[0]
    assert (best.points, best.attempt.id) == (13, 1)  # 15 late by 2 days is 11


def test_unknown_assignments_and_unidentified_students_are_warnings():
    book = FakeGradebook()
    book.add("s1", "practice", [("t", F(1), F(1))])
    book.add("?unreadable-name", "hw1")
    grades, _ = grade_of(book)
    assert [s.student_id for s in grades.students] == ["s1"]
    assert any("'practice' is not a rubric homework" in w for w in grades.warnings)
    assert any("?unreadable-name" in w and "skipped" in w for w in grades.warnings)


# -- final.csv and the breakdown ----------------------------------------------------------


def test_final_csv_columns_and_atomic_write(tmp_path):
    book = FakeGradebook()
    book.add("s1", "hw1", split(F(15)))
    grades = compute_final_grades(RUBRIC, book, exam_of("s1,35.5\ns2,40\n"))
    out = tmp_path / "final.csv"
    out.write_text("old")
    write_final_csv(out, grades)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(rows[0]) == [
        "student_id",
        "hw1",
        "hw2",
        "hw3",
        "hw4",
        "hw5",
        "hw6",
        "exam",
        "total",
        "final_grade",
        "missing",
        "notes",
    ]
    assert rows[0]["hw1"] == "15" and rows[0]["total"] == "50.5" and rows[0]["final_grade"] == "5"
    assert rows[0]["missing"] == "hw2;hw3;hw4;hw5;hw6"
    assert rows[1]["student_id"] == "s2" and rows[1]["total"] == "40"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.csv"]
    with pytest.raises(OutputError, match="cannot write"):
        write_final_csv(tmp_path / "no" / "final.csv", grades)


def test_breakdown_answers_why():
    book = FakeGradebook()
    book.add(
        "s1",
        "hw1",
        [("a", F(5), F(5)), ("b", F(4), F(10))],
        submitted_at=HW1_DEADLINE + timedelta(minutes=20),
    )
    book.adjust("s1", "hw1", "b", F(8), reason="[manual] regrade", author="ana")
    book.add("s1", "hw2", failed="worker crashed")
    grades, s1 = grade_of(book, "s1,39.5\n")
    console = Console(file=io.StringIO(), width=250)
    render_breakdown(grades, s1, console)
    text = console.file.getvalue()
    for expected in [
        "Final grade of s1 (policy: latest)",
        "attempt #1",
        "submitted 2025-10-06 00:19+03:00",
        "task b: 4 -> 8 by ana",
        "([manual] regrade)",
        "1 day late x 2 points per day",
        "-2",
        "deadline 2025-10-05 23:59+03:00",
        "+15 min grace",
        "failed to grade",
        "worker crashed",
        "exam CSV line 2",
        "11 / 15",
        "39.5 / 40",
        "missing",
        "total: 50.5 / 115",
        "final grade: 5 / 10  (50.5 / 10 = 5.05 -> rounded half up: 5)",
        "missing: hw2, hw3, hw4, hw5, hw6",
    ]:
        assert expected in text, expected


# -- the command ------------------------------------------------------------------------

SHIPPED_RUBRIC = ROOT / "rubrics" / "course.toml"


def dated_rubric_text(year: int = 2025) -> str:
    """The shipped rubric with its commented-out deadlines set to ``year`` (it ships them unset)."""
    text = SHIPPED_RUBRIC.read_text(encoding="utf-8")
    dated = re.sub(r"^# deadline = YYYY(\S+).*$", rf"deadline = {year}\1", text, flags=re.M)
    assert dated.count("\ndeadline = ") == 6, "the shipped rubric's deadline lines changed"
    return dated


@pytest.fixture(scope="module")
def dated_rubric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rubric") / "course.toml"
    path.write_text(dated_rubric_text(), encoding="utf-8")
    return path


def fill_real_gradebook(db: Path, rubric_path: Path) -> None:
    """A real SQLite gradebook: graded, late, adjusted, failed and missing homeworks."""
    from autograder.gradebook import open_gradebook

    rubric = load_rubric(rubric_path)
    gradebook = open_gradebook(db)
    for hw in rubric.homeworks:
        on_time = hw.deadline - timedelta(hours=1)
        # alice: full marks everywhere, reached through thirds
        gradebook.record(
            report(hw.id, split(hw.max_points)),
            student_id="alice",
            submitted_at=on_time,
            source=f"alice/{hw.id}.py",
        )
    # bob: hw1 2/3 of the points, then 2 days late with everything; hw2 missing; hw3 adjusted
    hw1 = rubric.component("hw1")
    gradebook.record(
        report("hw1", full("hw1", F(10))),
        student_id="bob",
        submitted_at=hw1.deadline - timedelta(hours=3),
        source="bob/hw1.py",
    )
    gradebook.record(
        report("hw1", split(F(15), 2)),
        student_id="bob",
        submitted_at=hw1.deadline + timedelta(hours=20),
        source="bob/hw1b.py",
    )
    gradebook.record(
        report("hw3", full("hw3", F(9))), student_id="bob", submitted_at=None, source="bob/hw3.py"
    )
    gradebook.add_adjustment(
        assignment="hw3",
        student_id="bob",
        task_id="t0",
        points=F(5),
        reason="regrade request",
        author="ta-ana",
    )
    gradebook.close()


def test_command_run_in_process(tmp_path, dated_rubric):
    from autograder.commands import final as command

    db = tmp_path / "gradebook.sqlite"
    fill_real_gradebook(db, dated_rubric)
    (tmp_path / "exam.csv").write_text("student_id;points\nalice;40\nbob;30,5\n")
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    console = Console(file=io.StringIO(), width=250)
    args = parser.parse_args(
        [
            "final",
            "--db",
            str(db),
            "--exam",
            str(tmp_path / "exam.csv"),
            "--rubric",
            str(dated_rubric),
            "--student",
            "bob",
        ]
    )
    assert args.func(args, console) == 0
    text = console.file.getvalue()
    assert "task t0: 3 -> 5 by ta-ana (regrade request)" in text
    assert "1 day late x 3/2 points per day" in text  # 1/10 of 15
    assert "missing: hw2, hw4, hw5, hw6" in text
    args.student = "nobody"
    with pytest.raises(GradebookError, match="'nobody' is in neither the gradebook nor the exam"):
        args.func(args, console)


def test_end_to_end_final_csv(tmp_path, dated_rubric):
    db = tmp_path / "gradebook.sqlite"
    fill_real_gradebook(db, dated_rubric)
    exam = tmp_path / "exam.csv"
    exam.write_bytes("\ufeffstudent_id;points\r\nalice;40\r\nbob;30,5\r\ncarol;12\r\n\r\n".encode())
    out = tmp_path / "final.csv"
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "final",
        "--db",
        str(db),
        "--exam",
        str(exam),
        "--out",
        str(out),
        "--rubric",
        str(dated_rubric),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "wrote" in done.stdout and "'carol' has no homework in the gradebook" in done.stdout
    rows = {r["student_id"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert list(rows) == ["alice", "bob", "carol"]
    alice, bob, carol = rows["alice"], rows["bob"], rows["carol"]
    assert (alice["total"], alice["final_grade"], alice["missing"]) == ("115", "10", "")
    assert "final grade capped at 10" in alice["notes"]
    # bob: hw1 latest = 15 one day late (-1.5) = 13.5; hw3 9 with t0 3 -> 5 = 11; exam 30.5
    assert (bob["hw1"], bob["hw2"], bob["hw3"], bob["exam"]) == ("13.5", "0", "11", "30.5")
    assert (bob["total"], bob["final_grade"], bob["missing"]) == ("55", "6", "hw2;hw4;hw5;hw6")
    assert "task t0 3 -> 5 by ta-ana (regrade request)" in bob["notes"]
    assert "submission time unknown" in bob["notes"]
    assert (carol["total"], carol["final_grade"]) == ("12", "1")

    # a bad exam file: every problem located, exit 2, and the previous final.csv untouched
    before = out.read_bytes()
    exam.write_text("student_id,points\nalice,41\nbob,x\nalice,3\n")
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    message = done.stderr + done.stdout
    assert "Traceback" not in message
    for located in [
        "exam.csv:2: points 41 out of range 0..40",
        "exam.csv:3: points 'x' is not",
        "exam.csv:4: student 'alice' again (first at line 2)",
    ]:
        assert located in message
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "exam.csv",
        "final.csv",
        "gradebook.sqlite",
    ]


def test_load_final_grades_refuses_a_missing_gradebook(tmp_path):
    rubric = load_rubric(ROOT / "rubrics" / "course.toml")
    with pytest.raises(GradebookError):
        load_final_grades(tmp_path / "missing.sqlite", None, rubric)
    assert not (tmp_path / "missing.sqlite").exists()
