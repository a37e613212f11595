"""Late submissions: which deadline applies to a student and what being late costs.

Semantics (documented in ``rubrics/course.toml`` too):

- The deadline is the component's, or the student's extension (a new deadline, or extra days
  on the component's). ``grace_minutes`` then extends whichever deadline applies.
- Days late are the days *started* after deadline + grace: one minute late is one day.
- ``per_day``: each day costs ``points_per_day`` (or ``fraction_per_day`` of the maximum),
  never below 0; more than ``max_days`` days late scores 0. ``cutoff``: any lateness scores 0.
- The penalty applies to the score after manual adjustments.
- A homework without a deadline (the shipped rubric's default) gets no penalty; so does a
  submission without a recorded time. The breakdown says which. A time without a time zone is
  taken as UTC (the gradebook stores UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from autograder.final.rubric import Component, HardCutoff, Rubric
from autograder.points import fraction_str

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Lateness:
    """What the late policy did to one counted submission."""

    deadline: datetime | None  # None: the rubric sets no deadline
    deadline_source: str  # "rubric" or a description of the student's extension
    grace_minutes: int
    submitted_at: datetime | None
    days_late: int
    penalty: Fraction  # points actually taken off (never more than the score)
    zeroed: bool  # past the hard cut-off or past max_days
    rule: str  # one line for humans: what applied and why

    @property
    def late(self) -> bool:
        return self.days_late > 0


NO_DEADLINE = "no deadline set: no late penalty"


def deadline_for(
    rubric: Rubric, component: Component, student_id: str
) -> tuple[datetime | None, str]:
    """The deadline that applies to this student (None: none set), and where it comes from."""
    extension = rubric.extension(student_id, component.id)
    if extension is None:
        return component.deadline, "rubric"
    change = (
        f"+{extension.extra_days} days"
        if extension.extra_days is not None
        else f"new deadline {extension.deadline.isoformat()}"
    )
    reason = f": {extension.reason}" if extension.reason else ""
    return extension.applied_to(component.deadline), f"extension ({change}{reason})"


def days_late(submitted_at: datetime, deadline: datetime, grace_minutes: int = 0) -> int:
    """Days started after ``deadline + grace``; 0 when on time."""
    if submitted_at.tzinfo is None:
        submitted_at = submitted_at.replace(tzinfo=UTC)
    late_by = submitted_at - (deadline + timedelta(minutes=grace_minutes))
    if late_by <= timedelta(0):
        return 0
    return -(-late_by // DAY)  # ceiling division on exact timedeltas


def apply_late_policy(
    rubric: Rubric,
    component: Component,
    student_id: str,
    submitted_at: datetime | None,
    score: Fraction,
) -> tuple[Fraction, Lateness]:
    """The component's points after the late policy, and the record of what happened."""
    deadline, source = deadline_for(rubric, component, student_id)
    grace = component.grace_minutes
    policy = component.late

    def result(points: Fraction, days: int, zeroed: bool, rule: str) -> tuple[Fraction, Lateness]:
        lateness = Lateness(
            deadline, source, grace, submitted_at, days, score - points, zeroed, rule
        )
        return points, lateness

    if deadline is None:
        return result(score, 0, False, NO_DEADLINE)
    if submitted_at is None:
        return result(score, 0, False, "submission time unknown: no late penalty applied")
    days = days_late(submitted_at, deadline, grace)
    if days == 0:
        return result(score, 0, False, "on time")
    plural = "day" if days == 1 else "days"
    if isinstance(policy, HardCutoff):
        return result(Fraction(0), days, True, f"{days} {plural} late: past the hard cut-off, 0")
    if policy.max_days is not None and days > policy.max_days:
        return result(
            Fraction(0), days, True, f"{days} {plural} late: more than {policy.max_days}, 0"
        )
    per_day = policy.per_day(component.max_points)
    points = max(Fraction(0), score - days * per_day)
    return result(
        points, days, False, f"{days} {plural} late x {fraction_str(per_day)} points per day"
    )
