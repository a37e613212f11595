"""CSV export: one row per student, the format LMS gradebooks import.

Columns: ``student_id``, one per task (by task id), ``total``, then ``max_score``, ``status``,
``submitted_at`` and ``notes`` (overrides with their reasons, or why grading failed). Points
are exact decimals (:func:`~autograder.export.sheet.decimal_text`); a task nobody could grade
is an empty cell, not a zero.
"""

from __future__ import annotations

import csv
import io

from autograder.export.sheet import GradeSheet, StudentGrade
from autograder.points import decimal_text, parse_fraction
from autograder.safe_text import spreadsheet_cell

# Student-chosen text (ids come from file names, reasons quote them) must never run as a
# formula (``safe_text.spreadsheet_cell``, the one spreadsheet rule).


def _notes(student: StudentGrade) -> str:
    notes = []
    if student.status != "graded":
        notes.append(f"failed to grade: {student.reason}")
    for task in student.tasks:
        if task.adjustment is not None:
            was = (
                "-"
                if task.original_exact is None
                else decimal_text(parse_fraction(task.original_exact))
            )
            notes.append(
                f"{task.task_id} set to {decimal_text(task.adjustment.points_exact)} "
                f"(was {was}) by {task.adjustment.author}: {task.adjustment.reason}"
            )
    return "; ".join(notes)


def to_csv(sheet: GradeSheet) -> str:
    """The sheet as CSV text (``\\r\\n`` line ends, as the csv module and spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "student_id",
            *(t.id for t in sheet.tasks),
            "total",
            "max_score",
            "status",
            "submitted_at",
            "notes",
        ]
    )
    for student in sheet.students:
        cells = ["" if t.score is None else decimal_text(t.score) for t in student.tasks]
        total = "" if student.total is None else decimal_text(student.total)
        when = student.submitted_at.isoformat() if student.submitted_at else ""
        writer.writerow(
            [
                spreadsheet_cell(student.student_id),
                *cells,
                total,
                decimal_text(sheet.max_score),
                student.status,
                when,
                spreadsheet_cell(_notes(student)),
            ]
        )
    return out.getvalue()
