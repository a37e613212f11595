"""Writing final grades as CSV, atomically: the old file or the new one, never half of one.

Columns: ``student_id``, one per rubric component (in rubric order), ``total``,
``final_grade``, ``missing`` (component ids without a result, ``;``-separated) and ``notes``
(adjustments, late penalties, failures, the cap; ``|``-separated). Text cells that a
spreadsheet would run as a formula start with ``'`` (``safe_text``). Points are decimals rounded
half up to 4 places when not exact (1/3 shows as 0.3333); the final grade is always computed from
the exact total, never from these rounded cells.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from autograder.errors import OutputError
from autograder.final.compute import FinalGrades
from autograder.points import decimal_text
from autograder.safe_text import spreadsheet_cell


def final_rows(grades: FinalGrades) -> list[list[str]]:
    """The header and one row per student."""
    ids = [c.id for c in grades.rubric.components]
    rows = [["student_id", *ids, "total", "final_grade", "missing", "notes"]]
    for student in grades.students:
        rows.append(
            [
                spreadsheet_cell(student.student_id),  # ids are file names a student chose
                *(decimal_text(c.points) for c in student.components),
                decimal_text(student.total),
                str(student.final.grade),
                ";".join(student.missing),
                spreadsheet_cell(" | ".join(student.notes())),
            ]
        )
    return rows


def write_rows_atomic(path: str | Path, rows: list[list[str]]) -> None:
    """Write a UTF-8 CSV through a temporary file in the same folder and ``os.replace``.

    Raises:
        OutputError: The folder is missing or not writable; no file is left behind.
    """
    path = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        )
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with handle:
            csv.writer(handle).writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_final_csv(path: str | Path, grades: FinalGrades) -> None:
    """Write ``final.csv`` (see the module docstring for the columns)."""
    write_rows_atomic(path, final_rows(grades))
