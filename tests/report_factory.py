"""Builds realistic ``Report`` objects for the gradebook, batch, export and report tests."""

from __future__ import annotations

import hashlib
from fractions import Fraction

from autograder.points import display_points, fraction_str
from autograder.report import CheckResult, Report, TaskResult

# (task id, max points, visibility)
TASKS = [
    ("softmax", Fraction(2), "public"),
    ("linear", Fraction(3), "public"),
    ("init", Fraction(5, 2), "hidden"),
]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_report(
    scores: dict[str, Fraction] | None = None,
    *,
    assignment: str = "hw1",
    sha256: str | None = None,
    spec_hash: str = "spec-1",
    grader_version: str = "0.1.0",
    seconds: float = 1.5,
    submission_status: str = "graded",
    submission_message: str = "",
    metrics: dict | None = None,
) -> Report:
    """A report over ``TASKS``; ``scores`` maps task id -> points (default: full marks)."""
    scores = scores or {}
    tasks = []
    for task_id, max_points, visibility in TASKS:
        got = Fraction(scores.get(task_id, max_points))
        status = "passed" if got == max_points else "failed" if got == 0 else "partial"
        check = CheckResult(
            id=f"{task_id}.forward",
            kind="compare",
            symbol=task_id,
            score=display_points(got),
            max_score=display_points(max_points),
            score_exact=fraction_str(got),
            max_score_exact=fraction_str(max_points),
            status=status,
            message=f"{task_id} <check>",
            metrics=(metrics or {}) if task_id == "init" else {},
        )
        tasks.append(
            TaskResult(
                id=task_id,
                title=f"Task {task_id}",
                symbols=[task_id],
                visibility=visibility,
                score=display_points(got),
                max_score=display_points(max_points),
                score_exact=fraction_str(got),
                max_score_exact=fraction_str(max_points),
                status=status,
                message=f"{task_id}: {status}",
                checks=[check],
                seconds=seconds / 3,
            )
        )
    total = sum((parse(t.score_exact) for t in tasks), Fraction(0))
    maximum = sum((m for _, m, _ in TASKS), Fraction(0))
    return Report(
        assignment=assignment,
        title="Homework 1",
        submission="hw1.py",
        sha256=sha256 or sha(repr(sorted(scores.items()))),
        score=display_points(total),
        max_score=display_points(maximum),
        score_exact=fraction_str(total),
        max_score_exact=fraction_str(maximum),
        tasks=tasks,
        grader_version=grader_version,
        spec_hash=spec_hash,
        submission_status=submission_status,
        submission_message=submission_message,
        started_at="2025-03-01T10:00:00+00:00",
        finished_at="2025-03-01T10:00:01.5+00:00",
        seconds=seconds,
    )


def parse(text: str) -> Fraction:
    return Fraction(text)
