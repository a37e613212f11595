"""Exports of the gradebook: CSV for LMS gradebooks, JSON, and Gradescope results files.

All of them read one :class:`~autograder.export.sheet.GradeSheet`; none ever re-scores.
"""

from __future__ import annotations

from autograder.export.csv import to_csv
from autograder.export.files import atomic_write_bytes, atomic_write_text
from autograder.export.gradescope import results_json, write_gradescope
from autograder.export.json import to_json, to_json_data
from autograder.export.sheet import GradeSheet, StudentGrade, TaskColumn, TaskGrade, build_sheet

FORMATS = ("csv", "json", "gradescope")

__all__ = [
    "FORMATS",
    "GradeSheet",
    "StudentGrade",
    "TaskColumn",
    "TaskGrade",
    "atomic_write_bytes",
    "atomic_write_text",
    "build_sheet",
    "results_json",
    "to_csv",
    "to_json",
    "to_json_data",
    "write_gradescope",
]
