"""Rows of the gradebook: attempts (one graded or failed submission) and TA adjustments.

These models are what every gradebook store returns, whatever database sits behind it.
Scores are exact fractions stored as ``"p/q"`` text so sums never drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict

from autograder.points import parse_fraction
from autograder.report import Report

AttemptStatus = Literal["graded", "failed to grade"]
Policy = Literal["latest", "best"]
POLICIES: tuple[str, ...] = ("latest", "best")

# Discovery problems that cannot be tied to a student (an unreadable name, an id with a path
# separator) are recorded under an id starting with this mark; valid student ids never contain it.
UNIDENTIFIED = "?"


def is_identified(student_id: str) -> bool:
    """False for the placeholder ids of submissions whose student could not be named."""
    return not student_id.startswith(UNIDENTIFIED)


def utc_now() -> datetime:
    """Now, timezone-aware in UTC (the only time zone the gradebook stores)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Attempt(BaseModel):
    """One submission file graded (or not) against one spec by one grader version."""

    model_config = ConfigDict(extra="forbid")

    id: int
    assignment: str
    student_id: str
    sha256: str
    status: AttemptStatus
    reason: str = ""
    score_exact: str
    max_score_exact: str
    report: Report | None = None
    submitted_at: datetime | None = None
    graded_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0
    grader_version: str
    spec_hash: str
    source: str

    @property
    def score(self) -> Fraction:
        """Exact score of this attempt (0 when it failed to grade)."""
        return parse_fraction(self.score_exact)

    @property
    def max_score(self) -> Fraction:
        """Exact maximum score (0 when unknown because grading failed before a report)."""
        return parse_fraction(self.max_score_exact)

    @property
    def when(self) -> datetime:
        """The time that orders attempts: submission time, else grading time."""
        return self.submitted_at or self.graded_at


class Adjustment(BaseModel):
    """A TA's override of one task's score for one student: ``points`` replaces the score."""

    model_config = ConfigDict(extra="forbid")

    id: int
    assignment: str
    student_id: str
    task_id: str
    points: str
    reason: str
    author: str
    created_at: datetime

    @property
    def points_exact(self) -> Fraction:
        """The new task score as an exact fraction."""
        return parse_fraction(self.points)


def current_gradings(attempts: list[Attempt]) -> list[Attempt]:
    """One attempt per submitted file: its newest grading.

    Regrading a file after a spec fix or a grader upgrade adds a row with the same sha256;
    only the newest grading of a file may count, so an older, more lenient spec can never
    win under ``best``. A graded row still beats a newer failure to grade the same file.
    """
    newest: dict[tuple[str, str, str], Attempt] = {}
    for attempt in attempts:
        key = (attempt.assignment, attempt.student_id, attempt.sha256)
        current = newest.get(key)
        rank = (attempt.status == "graded", as_utc(attempt.graded_at), attempt.id)
        if current is None or rank > (
            current.status == "graded",
            as_utc(current.graded_at),
            current.id,
        ):
            newest[key] = attempt
    return sorted(newest.values(), key=lambda a: a.id)


def select_counted(attempts: list[Attempt], policy: Policy = "latest") -> dict[str, Attempt]:
    """Pick, per student, the attempt that counts.

    Only each file's newest grading takes part (:func:`current_gradings`). Graded attempts
    always win over failed-to-grade ones; a student with only failed attempts maps to the
    latest failure, so nobody silently disappears from a gradebook.

    Args:
        attempts: Attempts of one assignment.
        policy: ``"latest"`` (by submission time, else grading time; ties by id) or ``"best"``
            (highest score; ties go to the latest).

    Returns:
        student_id -> counted attempt, sorted by student id.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")

    def latest_key(a: Attempt) -> tuple:
        return (a.status == "graded", as_utc(a.when), a.id)

    def best_key(a: Attempt) -> tuple:
        return (a.status == "graded", a.score, as_utc(a.when), a.id)

    key = latest_key if policy == "latest" else best_key
    chosen: dict[str, Attempt] = {}
    for attempt in current_gradings(attempts):
        current = chosen.get(attempt.student_id)
        if current is None or key(attempt) > key(current):
            chosen[attempt.student_id] = attempt
    return dict(sorted(chosen.items()))
