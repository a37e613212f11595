"""One student's final grade as a rich table: what counted, what changed it, and the arithmetic.

This answers "why do I have 7?": per component the counted attempt, the autograder's score, each
adjustment with its author and reason, the late penalty with the deadline used (or that no
deadline is set), and the points; then the total, the exact final-grade computation and the
missing components. Ids and reasons are printed through ``safe_text.plain``.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.final.compute import ComponentGrade, FinalGrades, StudentGrade
from autograder.points import exact_text
from autograder.safe_text import plain


def _when(moment: datetime, like: datetime | None = None) -> str:
    """``2025-10-05 23:59+03:00``; in the deadline's time zone when given, to compare at a glance."""
    if like is not None and moment.tzinfo is not None:
        moment = moment.astimezone(like.tzinfo)
    return moment.isoformat(" ", "minutes")


def _attempt(part: ComponentGrade) -> str:
    if part.component.kind == "exam":
        return f"exam CSV line {part.exam.line}" if part.exam else "not in the exam CSV"
    attempt = part.attempt
    if attempt is None:
        return "no submission"
    deadline = part.component.deadline
    if attempt.submitted_at is None:
        when = "submission time unknown"
    else:
        when = f"submitted {_when(attempt.submitted_at, deadline)}"
    status = "" if attempt.status == "graded" else f"\n{attempt.status}: {attempt.reason}"
    return f"attempt #{attempt.id}\n{when}{status}"


def _adjustments(part: ComponentGrade) -> Text:
    text = Text()
    for applied in part.adjustments:
        adj = applied.adjustment
        line = (
            f"task {adj.task_id}: {exact_text(applied.before)} -> {exact_text(adj.points_exact)} "
            f"by {adj.author} ({adj.reason})"
        )
        if text:
            text.append("\n")
        text.append_text(
            plain(
                line if applied.in_force else line + " [replaced]",
                style="" if applied.in_force else "dim strike",
            )
        )
    return text


def _late(part: ComponentGrade) -> str:
    late = part.lateness
    if late is None:
        return ""
    if late.deadline is None:
        return late.rule  # "no deadline set: no late penalty"
    deadline = f"deadline {_when(late.deadline)}"
    if late.deadline_source != "rubric":
        deadline += f"\n{late.deadline_source}"
    if late.grace_minutes:
        deadline += f"\n+{late.grace_minutes} min grace"
    penalty = f"\n-{exact_text(late.penalty)}" if late.late else ""
    return f"{late.rule}{penalty}\n{deadline}"


def render_breakdown(grades: FinalGrades, student: StudentGrade, console: Console) -> None:
    """Print one student's breakdown (see the module docstring)."""
    rubric = grades.rubric
    table = Table(title=plain(f"Final grade of {student.student_id} (policy: {grades.policy})"))
    for header in ("component", "counted", "autograder", "adjustments", "late", "points"):
        table.add_column(header, justify="right" if header == "points" else "left", overflow="fold")
    for part in student.components:
        component = part.component
        score = part.autograder_score
        points = f"{exact_text(part.points)} / {exact_text(component.max_points)}"
        table.add_row(
            Text(component.id),
            plain(_attempt(part)),
            Text("" if score is None else exact_text(score)),
            _adjustments(part),
            plain(_late(part)),
            Text(
                points + ("\nmissing" if part.missing else ""), style="red" if part.missing else ""
            ),
        )
    console.print(table)
    final = student.final
    console.print(
        f"total: {exact_text(student.total)} / {exact_text(rubric.max_points)}", markup=False
    )
    console.print(
        f"final grade: {final.grade} / {rubric.final_grade.scale_max}  ({final.explain()})",
        markup=False,
    )
    missing = ", ".join(student.missing) or "none"
    console.print(f"missing: {missing}", markup=False)
