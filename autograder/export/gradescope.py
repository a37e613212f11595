"""Gradescope export: ``DIR/<student_id>/results.json`` in Gradescope's autograder schema.

Top level ``score``, ``max_score``, ``execution_time`` (seconds), ``output`` and ``tests``;
each test has ``name``, ``score``, ``max_score``, ``status`` (``passed``/``failed``),
``output`` and ``visibility``: ``visible`` for public tasks, ``after_published`` for hidden
ones, so hidden results appear only once the TA publishes grades.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.errors import AutograderError
from autograder.export.files import atomic_write_text
from autograder.export.sheet import GradeSheet, StudentGrade
from autograder.points import decimal_text, display_points, parse_fraction
from autograder.submission import student_id_problem

_VISIBILITY = {"public": "visible", "hidden": "after_published"}


def results_json(sheet: GradeSheet, student: StudentGrade) -> dict[str, Any]:
    """One student's ``results.json`` content."""
    columns = {c.id: c for c in sheet.tasks}
    tests = []
    for task in student.tasks:
        column = columns[task.task_id]
        score = task.score if task.score is not None else parse_fraction("0")
        maximum = parse_fraction(task.max_score_exact)
        output = task.message or ("not graded" if task.score is None else "")
        if task.adjustment is not None:
            was = (
                "-"
                if task.original_exact is None
                else decimal_text(parse_fraction(task.original_exact))
            )
            output += (
                f"\nAdjusted by course staff to {decimal_text(score)} (was {was}): "
                f"{task.adjustment.reason}"
            )
        tests.append(
            {
                "name": f"{column.id}: {column.title}",
                "score": display_points(score),
                "max_score": display_points(maximum),
                "status": "passed" if score >= maximum else "failed",
                "output": output.strip(),
                "visibility": _VISIBILITY[column.visibility],
            }
        )
    total = student.total if student.total is not None else parse_fraction("0")
    report = student.attempt.report
    if student.status != "graded":
        output = f"Your submission could not be graded automatically: {student.reason}"
    elif report is not None and report.submission_message:
        output = report.submission_message
    else:
        output = f"{decimal_text(total)} / {decimal_text(sheet.max_score)} points"
    return {
        "score": display_points(total),
        "max_score": display_points(sheet.max_score),
        "execution_time": round(student.attempt.seconds, 3),
        "output": output,
        "tests": tests,
    }


def write_gradescope(sheet: GradeSheet, out_dir: Path) -> list[Path]:
    """Write every student's ``results.json`` under ``out_dir`` (created); returns the paths.

    Raises:
        AutograderError: ``out_dir`` exists and is not a folder, or cannot be written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise AutograderError(f"--out {out_dir}: exists and is not a folder")
    written = []
    for student in sheet.students:
        if student_id_problem(student.student_id):
            continue  # unsafe as a folder name; discovery never records such an id
        folder = out_dir / student.student_id
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AutograderError(f"{folder}: cannot create: {exc.strerror}") from None
        path = folder / "results.json"
        atomic_write_text(path, json.dumps(results_json(sheet, student), indent=2) + "\n")
        written.append(path)
    return written
