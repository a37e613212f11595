"""Deadlines that cannot silently zero a term: notices and warnings about the rubric's dates.

A rubric that still carries last term's dates zeroes every homework graded in this one ("428
days late: more than 7, 0"), and nothing else looks wrong. The penalties stay exactly as the
rubric says; this module only says so, once and naming the field to edit:

- a notice when a homework has no deadline (no late penalty applies to it);
- a warning when every counted attempt of a homework scores 0 under the late policy, or came
  more than ``PAST_TERM`` after its deadline (a past term's date?).

``autograder final`` and ``autograder batch`` print both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from autograder.final.late import apply_late_policy, deadline_for
from autograder.final.rubric import Component, Rubric, load_rubric
from autograder.gradebook.models import Attempt, Policy

# Attempts all this long after the deadline are another term's, whatever the late policy.
PAST_TERM = timedelta(days=90)

# (student id, submission time) of each counted attempt of one homework
Timed = tuple[str, datetime | None]


@dataclass(frozen=True)
class DeadlineNotes:
    """What to tell staff about the rubric's deadlines: notices (fine, but say it) and
    warnings (probably a wrong date)."""

    notices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _field(rubric: Rubric, component_id: str) -> str:
    """``rubrics/course.toml: components[0] (id 'hw1').deadline``: the line to edit."""
    return f"{rubric.source}: {rubric.where(component_id, 'deadline')}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _component_warning(rubric: Rubric, component: Component, timed: list[Timed]) -> str | None:
    """The warning for one homework with a deadline, or None when its dates look right."""
    dated = [(student, _utc(when)) for student, when in timed if when is not None]
    if not dated or component.deadline is None:
        return None
    zeroed, after = 0, []
    for student, when in dated:
        deadline, _ = deadline_for(rubric, component, student)
        _, lateness = apply_late_policy(rubric, component, student, when, component.max_points)
        zeroed += lateness.zeroed
        after.append(when - deadline if deadline is not None else timedelta(0))
    field = _field(rubric, component.id)
    every = (
        "its only counted attempt {}"
        if len(dated) == 1
        else f"all {len(dated)} counted attempts {{}}"
    )
    earliest = min(after)
    deadline = component.deadline.isoformat()
    fix = (
        f"Is it last term's date? Edit {field}, or give batch the real submission times "
        "(--times, an LMS export)."
    )
    if zeroed == len(dated):
        scores = "scores 0" if len(dated) == 1 else "score 0"
        return (
            f"{component.id}: {every.format(scores)} under the late policy (deadline "
            f"{deadline}; the earliest came {earliest.days} days after it). {fix}"
        )
    if earliest > PAST_TERM:
        return (
            f"{component.id}: {every.format('came')} more than {PAST_TERM.days} days after the "
            f"deadline {deadline} (the earliest {earliest.days} days after). {fix}"
        )
    return None


def deadline_notes(rubric: Rubric, counted: Mapping[str, Iterable[Timed]]) -> DeadlineNotes:
    """Notices and warnings for the homeworks in ``counted`` (component id -> its counted
    attempts' student ids and times); homeworks without attempts get the notice only when no
    homework has a deadline at all."""
    homeworks = rubric.homeworks
    notices: list[str] = []
    warnings: list[str] = []
    none_set = bool(homeworks) and all(c.deadline is None for c in homeworks)
    if none_set:
        fields = ", ".join(rubric.where(c.id, "deadline") for c in homeworks)
        notices.append(
            f"no homework has a deadline in {rubric.source}: no late penalty is applied. "
            f"Set this term's dates there to apply the late policy ({fields})."
        )
    for component in homeworks:
        timed = list(counted.get(component.id, ()))
        if not timed:
            continue
        if component.deadline is None:
            if not none_set:
                notices.append(
                    f"{component.id}: no deadline set ({_field(rubric, component.id)}): "
                    "no late penalty"
                )
            continue
        warning = _component_warning(rubric, component, timed)
        if warning:
            warnings.append(warning)
    return DeadlineNotes(tuple(notices), tuple(warnings))


class CountedReader(Protocol):
    def counted(self, assignment: str, policy: Policy = "latest") -> dict[str, Attempt]: ...


def batch_deadline_notes(
    course_root: Path, gradebook: CountedReader, assignment_id: str, policy: Policy = "latest"
) -> DeadlineNotes:
    """The notes for one homework after a batch: from the course's rubric (none when the course
    has no rubric or does not list the assignment) and the gradebook's counted attempts."""
    path = Path(course_root) / "rubrics" / "course.toml"
    if not path.is_file():
        return DeadlineNotes()
    rubric = load_rubric(path)
    component = rubric.component(assignment_id)
    if component is None or component.kind != "homework":
        return DeadlineNotes()
    counted = [
        (a.student_id, a.submitted_at)
        for a in gradebook.counted(assignment_id, policy).values()
        if a.status == "graded"
    ]
    if not counted:
        return DeadlineNotes()
    if component.deadline is None:
        field = _field(rubric, assignment_id)
        return DeadlineNotes(
            notices=(f"{assignment_id}: no deadline set ({field}): no late penalty",)
        )
    warning = _component_warning(rubric, component, counted)
    return DeadlineNotes(warnings=(warning,) if warning else ())
