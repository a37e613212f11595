"""The grade sheet of one assignment: the counted attempt per student, with TA overrides applied.

Every export (CSV, JSON, Gradescope) and the HTML report read this one model, so they agree on
which attempt counts and what an adjustment does: it replaces one task's score and keeps the
original beside it, with the reason.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel

from autograder.gradebook import Adjustment, Attempt, Gradebook, Policy, is_identified
from autograder.points import fraction_str, parse_fraction


class TaskColumn(BaseModel):
    """One task of the assignment, as the newest report describes it."""

    id: str
    title: str
    max_score_exact: str
    visibility: Literal["public", "hidden"]

    @property
    def max_score(self) -> Fraction:
        return parse_fraction(self.max_score_exact)


class TaskGrade(BaseModel):
    """One student's score on one task; ``score_exact`` is None when nothing was graded."""

    task_id: str
    score_exact: str | None
    max_score_exact: str
    status: str
    message: str = ""
    original_exact: str | None = None
    adjustment: Adjustment | None = None

    @property
    def score(self) -> Fraction | None:
        return None if self.score_exact is None else parse_fraction(self.score_exact)


class StudentGrade(BaseModel):
    """The counted attempt of one student, overrides applied."""

    student_id: str
    status: Literal["graded", "failed to grade"]
    reason: str
    attempt: Attempt
    tasks: list[TaskGrade]
    total_exact: str | None
    max_score_exact: str
    adjustments: list[Adjustment]

    @property
    def total(self) -> Fraction | None:
        return None if self.total_exact is None else parse_fraction(self.total_exact)

    @property
    def submitted_at(self) -> datetime | None:
        return self.attempt.submitted_at


class GradeSheet(BaseModel):
    """All students of one assignment; ``unidentified`` holds submissions no student claims."""

    assignment: str
    policy: Policy
    tasks: list[TaskColumn]
    max_score_exact: str
    students: list[StudentGrade]
    unidentified: list[Attempt]

    @property
    def max_score(self) -> Fraction:
        return parse_fraction(self.max_score_exact)


def _columns(attempts: list[Attempt]) -> list[TaskColumn]:
    """Task columns from the newest report; tasks only older specs had are appended."""
    columns: dict[str, TaskColumn] = {}
    for attempt in sorted(attempts, key=lambda a: a.graded_at, reverse=True):
        for task in attempt.report.tasks if attempt.report else []:
            columns.setdefault(
                task.id,
                TaskColumn(
                    id=task.id,
                    title=task.title,
                    max_score_exact=task.max_score_exact,
                    visibility=task.visibility,
                ),
            )
    return list(columns.values())


def _student(
    attempt: Attempt, columns: list[TaskColumn], adjustments: list[Adjustment]
) -> StudentGrade:
    latest = {a.task_id: a for a in adjustments}  # oldest first, so the newest wins
    reported = {t.id: t for t in attempt.report.tasks} if attempt.report else {}
    graded = attempt.status == "graded"
    tasks, total, any_score = [], Fraction(0), False
    for column in columns:
        task = reported.get(column.id) if graded else None
        original = task.score_exact if task else None
        grade = TaskGrade(
            task_id=column.id,
            score_exact=original,
            max_score_exact=task.max_score_exact if task else column.max_score_exact,
            status=task.status if task else attempt.status,
            message=task.message if task else "",
        )
        if column.id in latest:
            adj = latest[column.id]
            grade.score_exact, grade.original_exact, grade.adjustment = adj.points, original, adj
        if grade.score is not None:
            total += grade.score
            any_score = True
        tasks.append(grade)
    if graded and not latest and not reported:
        any_score, total = True, attempt.score  # a report without tasks still has a total
    maximum = sum((c.max_score for c in columns), Fraction(0))
    return StudentGrade(
        student_id=attempt.student_id,
        status=attempt.status,
        reason=attempt.reason,
        attempt=attempt,
        tasks=tasks,
        total_exact=fraction_str(total) if any_score else None,
        max_score_exact=fraction_str(maximum),
        adjustments=adjustments,
    )


def build_sheet(gradebook: Gradebook, assignment: str, policy: Policy = "latest") -> GradeSheet:
    """The grade sheet of ``assignment``: counted attempts under ``policy``, overrides applied."""
    counted = gradebook.counted(assignment, policy)
    columns = _columns(list(counted.values()))
    by_student: dict[str, list[Adjustment]] = {}
    for adj in gradebook.adjustments(assignment):
        by_student.setdefault(adj.student_id, []).append(adj)
    students = [
        _student(attempt, columns, by_student.get(sid, []))
        for sid, attempt in counted.items()
        if is_identified(sid)
    ]
    maximum = sum((c.max_score for c in columns), Fraction(0))
    return GradeSheet(
        assignment=assignment,
        policy=policy,
        tasks=columns,
        max_score_exact=fraction_str(maximum),
        students=students,
        unidentified=[a for sid, a in counted.items() if not is_identified(sid)],
    )
