"""Final grades: the rubric's components joined from the gradebook and the exam CSV.

For each student and homework: the counted attempt's autograder score, TA adjustments (each
overrides one task's score; the newest per task wins), then the late policy (``late.py``). The
exam comes from the exam CSV. Everything is an exact ``Fraction``; the final grade is
``round_half_up(total / divisor)``, then at most the rubric's cap (115 points gives 11.5 ->
12 -> 10, and the raw total stays visible).

Decisions:

- A homework without a result (no submission, or only "failed to grade" and no adjustment)
  scores 0 and is listed in ``missing``; the student is never dropped.
- ``policy="latest"`` counts the gradebook's counted attempt. ``policy="best"`` counts the
  attempt with the most points *after* adjustments and the late penalty (ties as the gradebook
  breaks them: graded first, then the latest), so a late resubmission never beats an on-time one
  that ends up higher.
- An adjusted homework score outside ``0..max`` is an error (a newer adjustment fixes it); an
  adjustment of a task the counted report does not have is ignored with a warning.
- Gradebook assignments the rubric does not list are ignored with a warning.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Protocol

from autograder.errors import GradebookError, SpecError
from autograder.final.deadlines import DeadlineNotes, Timed, deadline_notes
from autograder.final.exam_csv import ExamResult, ExamResults, read_exam_csv
from autograder.final.grade_rule import FinalGrade, final_grade
from autograder.final.late import Lateness, apply_late_policy
from autograder.final.rubric import Component, Rubric
from autograder.gradebook.models import (
    Adjustment,
    Attempt,
    Policy,
    current_gradings,
    is_identified,
)
from autograder.points import exact_text


class GradebookReader(Protocol):
    """The part of ``autograder.gradebook.Gradebook`` final grades read."""

    def counted(self, assignment: str, policy: Policy = "latest") -> dict[str, Attempt]: ...

    def attempts(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Attempt]: ...

    def students(self) -> list[str]: ...

    def assignments(self) -> list[str]: ...

    def adjustments(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Adjustment]: ...


@dataclass(frozen=True)
class AppliedAdjustment:
    """One TA override as it bears on the counted attempt."""

    adjustment: Adjustment
    before: Fraction  # the task's autograder score (0 without a report or a graded attempt)
    in_force: bool  # False when a newer override of the same task replaced it


@dataclass(frozen=True)
class ComponentGrade:
    """One component of one student's grade and how its points came about."""

    component: Component
    points: Fraction
    missing: bool
    attempt: Attempt | None = None
    autograder_score: Fraction | None = None
    adjustments: tuple[AppliedAdjustment, ...] = ()
    adjusted_score: Fraction | None = None  # after adjustments, before the late policy
    lateness: Lateness | None = None
    exam: ExamResult | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentGrade:
    student_id: str
    components: tuple[ComponentGrade, ...]
    total: Fraction
    final: FinalGrade

    @property
    def missing(self) -> list[str]:
        return [c.component.id for c in self.components if c.missing]

    def notes(self) -> list[str]:
        """Every adjustment, penalty and flag, one short line each (for exports)."""
        out = [f"{c.component.id}: {note}" for c in self.components for note in c.notes]
        if self.final.capped:
            out.append(f"final grade capped at {self.final.cap} ({self.final.explain()})")
        return out


@dataclass(frozen=True)
class FinalGrades:
    rubric: Rubric
    policy: Policy
    students: tuple[StudentGrade, ...]
    warnings: tuple[str, ...]
    # what the rubric's dates look like: no deadline set, or last term's (``deadlines.py``)
    deadlines: DeadlineNotes = DeadlineNotes()

    def student(self, student_id: str) -> StudentGrade | None:
        return next((s for s in self.students if s.student_id == student_id), None)


def _adjust(
    attempt: Attempt | None, adjustments: list[Adjustment], warnings: list[str]
) -> tuple[Fraction, tuple[AppliedAdjustment, ...]]:
    """The attempt's score with the newest override of each task applied."""
    graded = attempt is not None and attempt.status == "graded"
    base = attempt.score if graded else Fraction(0)
    report = attempt.report if graded else None
    tasks = {t.id: Fraction(t.score_exact) for t in report.tasks} if report else {}
    if graded and report is None and adjustments:
        raise GradebookError(
            f"attempt {attempt.id} ({attempt.assignment}, {attempt.student_id}) has no stored "
            "report: task adjustments cannot be applied"
        )
    newest = {adj.task_id: adj for adj in adjustments}  # oldest first: the last one wins
    applied, score = [], base
    for adj in adjustments:
        if report is not None and adj.task_id not in tasks:
            warnings.append(
                f"adjustment {adj.id} ({adj.assignment}, {adj.student_id}): task "
                f"{adj.task_id!r} is not in the counted report (tasks: {', '.join(tasks)}): ignored"
            )
            continue
        in_force = newest[adj.task_id] is adj
        if in_force:
            score += adj.points_exact - tasks.get(adj.task_id, Fraction(0))
        applied.append(AppliedAdjustment(adj, tasks.get(adj.task_id, Fraction(0)), in_force))
    return score, tuple(applied)


def _homework(
    rubric: Rubric,
    component: Component,
    student_id: str,
    attempt: Attempt | None,
    adjustments: list[Adjustment],
    warnings: list[str],
) -> ComponentGrade:
    """One homework from one candidate attempt (None: no submission)."""
    graded = attempt is not None and attempt.status == "graded"
    if graded and attempt.max_score != component.max_points:
        raise SpecError(
            f"gradebook attempt {attempt.id} ({component.id}, {student_id}) is out of "
            f"{exact_text(attempt.max_score)} points, but {rubric.source} gives {component.id} "
            f"{exact_text(component.max_points)}: regrade with the current spec"
        )
    score, applied = _adjust(attempt, adjustments, warnings)
    if not graded and not applied:
        note = "no submission" if attempt is None else f"failed to grade: {attempt.reason}"
        return ComponentGrade(component, Fraction(0), True, attempt, notes=(note,))
    if not 0 <= score <= component.max_points:
        raise GradebookError(
            f"{component.id}, {student_id}: adjustments give {exact_text(score)} points, outside "
            f"0..{exact_text(component.max_points)}; add a corrected adjustment"
        )
    submitted = attempt.submitted_at if attempt is not None else None
    points, lateness = apply_late_policy(rubric, component, student_id, submitted, score)
    notes = [
        f"task {a.adjustment.task_id} {exact_text(a.before)} -> "
        f"{exact_text(a.adjustment.points_exact)} by {a.adjustment.author} "
        f"({a.adjustment.reason})"
        for a in applied
        if a.in_force
    ]
    if lateness.deadline is None:
        pass  # no deadline: said once for the course (FinalGrades.deadlines), not per student
    elif submitted is None:
        notes.append(lateness.rule)
    elif lateness.late:
        used = "" if lateness.deadline_source == "rubric" else f", {lateness.deadline_source}"
        notes.append(
            f"{lateness.rule} (deadline {lateness.deadline.isoformat()}{used}): "
            f"-{exact_text(lateness.penalty)}"
        )
    return ComponentGrade(
        component=component,
        points=points,
        missing=False,
        attempt=attempt,
        autograder_score=attempt.score if graded else None,
        adjustments=applied,
        adjusted_score=score,
        lateness=lateness,
        notes=tuple(notes),
    )


def _counted(candidates: list[ComponentGrade]) -> ComponentGrade:
    """The best candidate, tie-broken as ``select_counted`` does (graded, then latest)."""

    def key(grade: ComponentGrade) -> tuple:
        attempt = grade.attempt
        when = attempt.when if attempt else datetime.min
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        graded = attempt is not None and attempt.status == "graded"
        return (graded, grade.points, when, attempt.id if attempt else 0)

    return max(candidates, key=key)


def _exam(component: Component, result: ExamResult | None, source: str) -> ComponentGrade:
    if result is None or result.points is None:
        why = "no exam result" if result is None else f"blank points at {source}:{result.line}"
        return ComponentGrade(component, Fraction(0), True, exam=result, notes=(why,))
    return ComponentGrade(component, result.points, False, exam=result)


def compute_final_grades(
    rubric: Rubric,
    gradebook: GradebookReader,
    exam: ExamResults | None,
    policy: Policy = "latest",
) -> FinalGrades:
    """Every student's grade: from the gradebook's homeworks and the exam CSV.

    Raises:
        SpecError: A counted attempt was graded out of other points than the rubric says.
        GradebookError: Adjustments push a homework outside ``0..max``.
    """
    warnings: list[str] = list(exam.warnings) if exam else []
    homework_ids = {c.id for c in rubric.homeworks}
    for assignment in gradebook.assignments():
        if assignment not in homework_ids:
            warnings.append(
                f"gradebook assignment {assignment!r} is not a rubric homework: ignored"
            )
    adjustments: dict[tuple[str, str], list[Adjustment]] = defaultdict(list)
    for adj in gradebook.adjustments():
        if adj.assignment in homework_ids:
            adjustments[adj.assignment, adj.student_id].append(adj)
    candidates: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for component in rubric.homeworks:
        if policy == "latest":
            for student_id, attempt in gradebook.counted(component.id, "latest").items():
                candidates[component.id, student_id].append(attempt)
        else:
            # only each file's newest grading: an older, more lenient spec must never win
            for attempt in current_gradings(gradebook.attempts(component.id)):
                candidates[component.id, attempt.student_id].append(attempt)
    if rubric.exam is not None and exam is None:
        warnings.append("no exam results given: every exam is missing")
    exam_results = exam.results if exam else {}
    everyone = {*gradebook.students(), *(s for _, s in adjustments), *exam_results}
    unnamed = sorted(s for s in everyone if not is_identified(s))
    if unnamed:
        warnings.append(
            f"{len(unnamed)} gradebook id(s) not tied to a student ({', '.join(unnamed)}): skipped"
        )
    students = []
    for student_id in sorted(s for s in everyone if is_identified(s)):
        parts = []
        for component in rubric.components:
            if component.kind == "exam":
                source = exam.source if exam else ""
                parts.append(_exam(component, exam_results.get(student_id), source))
                continue
            adjs = adjustments.get((component.id, student_id), [])
            options = candidates.get((component.id, student_id)) or [None]
            parts.append(
                _counted(
                    [_homework(rubric, component, student_id, a, adjs, warnings) for a in options]
                )
            )
        total = sum((p.points for p in parts), Fraction(0))
        grade = final_grade(total, rubric.final_grade)
        students.append(StudentGrade(student_id, tuple(parts), total, grade))
    counted: dict[str, list[Timed]] = defaultdict(list)
    for student in students:
        for part in student.components:
            if part.attempt is not None and not part.missing:
                counted[part.component.id].append((student.student_id, part.attempt.submitted_at))
    return FinalGrades(
        rubric,
        policy,
        tuple(students),
        tuple(dict.fromkeys(warnings)),
        deadline_notes(rubric, counted),
    )


def load_final_grades(
    db: str | os.PathLike,
    exam_path: str | os.PathLike | None,
    rubric: Rubric,
    policy: Policy = "latest",
) -> FinalGrades:
    """Open the gradebook (never creating one), read the exam CSV and compute every grade.

    Raises:
        GradebookError: The gradebook is missing or unreadable.
        ExamCSVError: The exam file is missing or has problems (all of them listed).
    """
    from autograder.gradebook import open_gradebook

    gradebook = open_gradebook(db, create=False)
    try:
        exam = None
        if exam_path is not None:
            if rubric.exam is None:
                raise SpecError(f"{rubric.source}: no exam component, but an exam CSV was given")
            known = {*gradebook.students(), *(a.student_id for a in gradebook.adjustments())}
            exam = read_exam_csv(exam_path, rubric.exam.max_points, known)
        return compute_final_grades(rubric, gradebook, exam, policy)
    finally:
        gradebook.close()
