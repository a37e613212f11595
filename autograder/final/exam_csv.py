"""Reading exam points from a CSV exported by a spreadsheet.

The file has a header with ``student_id`` and ``points`` columns (others, such as a name, are
ignored). Accepted: a UTF-8 byte-order mark, ``,``, ``;`` or tab separators (found with
``csv.Sniffer``, or Excel's ``sep=;`` first line), a decimal comma in ``;``- or tab-separated
files (``35,5``), blank lines, and empty trailing cells. A blank ``points`` cell means "no exam result": the student is kept and
the exam is flagged missing.

Every problem is collected with its line number and raised together as one ``ExamCSVError``;
callers write nothing when it is raised. Students not in the gradebook are warnings, not
errors: a student who only took the exam still gets a final grade (and a typo shows up as
one such warning plus a "missing exam" flag on the real student).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from autograder import csv_input
from autograder.errors import ExamCSVError
from autograder.points import fraction_str

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class ExamResult:
    """One student's row: ``points`` is None when the cell was blank (no result)."""

    student_id: str
    points: Fraction | None
    line: int


@dataclass(frozen=True)
class ExamResults:
    """The parsed file: results by student id, and the warnings to show the user."""

    source: str
    results: dict[str, ExamResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _parse_points(cell: str, separator: str) -> Fraction:
    text = cell
    if separator != "," and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"points {cell!r} is not a number")
    return Fraction(text)


def parse_exam_csv(
    text: str,
    source: str,
    max_points: Fraction,
    known_students: Collection[str] | None = None,
) -> ExamResults:
    """Parse decoded CSV text; see the module docstring for what is accepted.

    Args:
        text: The file's text (BOM already removed).
        source: The file name used in every message.
        max_points: The exam's maximum; points must lie in ``0..max_points``.
        known_students: Gradebook student ids; others get a warning. None: no check.

    Raises:
        ExamCSVError: Every problem found, one line each as ``source:line: problem``.
    """
    if not text.strip():
        raise ExamCSVError(f"{source}:1: the file is empty; expected a header student_id,points")
    separator = csv_input.separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    problems: list[str] = []
    results = ExamResults(source)
    seen: dict[str, int] = {}  # student id -> first line, valid or not

    def blank(row: list[str]) -> bool:
        return all(not cell.strip() for cell in row)

    header: list[str] | None = None
    try:
        for row in reader:
            line = reader.line_num
            if blank(row):
                continue
            if header is None and csv_input.is_separator_line(row, separator):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                columns = _columns(header, row, separator, f"{source}:{line}")
                continue
            while len(row) > len(header) and not row[-1].strip():
                row = row[:-1]  # trailing empty cells from the spreadsheet
            if len(row) != len(header):
                hint = ""
                if separator == "," and len(row) > len(header):
                    hint = " (a decimal comma? use '.' or separate the columns with ';')"
                problems.append(
                    f"{source}:{line}: {len(row)} cells, but the header has {len(header)}{hint}"
                )
                continue
            problems.extend(_row(results, seen, row, line, columns, separator, max_points))
    except csv.Error as exc:
        problems.append(f"{source}:{reader.line_num}: unreadable CSV: {exc}")
    if header is None and not problems:
        problems.append(f"{source}:1: no header; expected student_id,points")
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise ExamCSVError(f"{source}: {count}, nothing written:\n" + "\n".join(problems))
    if known_students is not None:
        known = set(known_students)
        for result in results.results.values():
            if result.student_id not in known:
                results.warnings.append(
                    f"{source}:{result.line}: student {result.student_id!r} has no homework in "
                    "the gradebook (kept: exam only)"
                )
    return results


def _columns(header: list[str], row: list[str], separator: str, where: str) -> tuple[int, int]:
    """Positions of student_id and points; ``ExamCSVError`` when missing or repeated."""
    problems = []
    missing = [name for name in ("student_id", "points") if name not in header]
    if missing:
        problems.append(f"no {' or '.join(missing)} column")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(f"repeated column {', '.join(repeated)}")
    if problems:
        shown = separator.join(cell.strip() for cell in row)
        raise ExamCSVError(
            f"{where}: {'; '.join(problems)} (header {shown!r}; expected student_id,points)"
        )
    return header.index("student_id"), header.index("points")


def _row(
    results: ExamResults,
    seen: dict[str, int],
    row: list[str],
    line: int,
    columns: tuple[int, int],
    separator: str,
    max_points: Fraction,
) -> list[str]:
    """Add one data row to ``results``; return its problems."""
    source = results.source
    student_id, cell = row[columns[0]].strip(), row[columns[1]].strip()
    if not student_id:
        return [f"{source}:{line}: student_id is empty"]
    if student_id in seen:
        return [f"{source}:{line}: student {student_id!r} again (first at line {seen[student_id]})"]
    seen[student_id] = line
    points: Fraction | None = None
    if cell:
        try:
            points = _parse_points(cell, separator)
        except ValueError as exc:
            return [f"{source}:{line}: {exc}"]
        if not 0 <= points <= max_points:
            return [
                f"{source}:{line}: points {cell} out of range 0..{fraction_str(max_points)} "
                f"for student {student_id!r}"
            ]
    results.results[student_id] = ExamResult(student_id, points, line)
    return []


def read_exam_csv(
    path: str | Path, max_points: Fraction, known_students: Collection[str] | None = None
) -> ExamResults:
    """Read and validate an exam CSV file (see :func:`parse_exam_csv`).

    Raises:
        ExamCSVError: Missing or unreadable file, or every problem in it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExamCSVError(f"{path}: exam file not found") from None
    except OSError as exc:
        raise ExamCSVError(f"{path}: cannot read the exam file: {exc.strerror}") from None
    text = csv_input.decode(data, str(path), ExamCSVError)
    return parse_exam_csv(text, str(path), max_points, known_students)
