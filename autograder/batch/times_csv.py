"""Submission times from an LMS export: one row per student, an id column and a time column.

``autograder batch --times export.csv`` reads it instead of trusting anything in the folder:
the LMS recorded when each student submitted, and the student cannot edit that record. The file
is read like the exam CSV (``csv_input``: BOM, ``,``/``;``/tab, Excel's ``sep=`` line) and
validated line by line; every problem is reported at once, and nothing is graded when there is
one. Times are ISO 8601 (``2026-10-05T23:59:00+03:00``, ``2026-10-05 20:59:00Z``); a time
without an offset needs the LMS's time zone (``zone``, e.g. ``Europe/Moscow``).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder import csv_input
from autograder.errors import TimesCSVError
from autograder.safe_text import terminal_text
from autograder.submission import student_id_problem

DEFAULT_COLUMNS = ("student_id", "submitted_at")


def time_zone(name: str) -> tzinfo:
    """An IANA time zone by name; ``TimesCSVError`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimesCSVError(
            f"unknown time zone {name!r} (an IANA name, e.g. Europe/Moscow)"
        ) from None


def _time(cell: str, zone: tzinfo | None) -> datetime:
    try:
        when = datetime.fromisoformat(cell)
    except ValueError:
        raise ValueError(f"time {cell!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        if zone is None:
            raise ValueError(
                f"time {cell!r} has no UTC offset: add one, or name the LMS's time zone "
                "(--times-zone Europe/Moscow)"
            )
        when = when.replace(tzinfo=zone)
    return when


def parse_times_csv(
    text: str,
    source: str,
    columns: tuple[str, str] = DEFAULT_COLUMNS,
    zone: tzinfo | None = None,
) -> dict[str, datetime]:
    """Each student's submission time (aware datetimes) from decoded CSV text.

    Args:
        text: The file's text (BOM already removed).
        source: The file name used in every message.
        columns: The header names of the student id and the time columns (case-insensitive).
        zone: The time zone of times written without an offset.

    Raises:
        TimesCSVError: Every problem found, one line each as ``source:line: problem``.
    """
    if not text.strip():
        raise TimesCSVError(f"{source}:1: the file is empty; expected a header {','.join(columns)}")
    sep = csv_input.separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    wanted = [name.strip().lower() for name in columns]
    problems: list[str] = []
    times: dict[str, datetime] = {}
    first_line: dict[str, int] = {}
    where: tuple[int, int] | None = None
    try:
        for row in reader:
            line = reader.line_num
            if all(not cell.strip() for cell in row):
                continue
            if where is None:
                if csv_input.is_separator_line(row, sep):
                    continue
                header = [cell.strip().lower() for cell in row]
                missing = [name for name in wanted if header.count(name) != 1]
                if missing:
                    shown = terminal_text(sep.join(row))
                    raise TimesCSVError(
                        f"{source}:{line}: no single column named {' or '.join(missing)} "
                        f"(header {shown!r}; name the columns with --times-columns ID,TIME)"
                    )
                where = (header.index(wanted[0]), header.index(wanted[1]))
                continue
            if len(row) <= max(where):
                problems.append(f"{source}:{line}: {len(row)} cells, too few for the header")
                continue
            student_id, cell = row[where[0]].strip(), row[where[1]].strip()
            why = student_id_problem(student_id)
            if why:
                problems.append(f"{source}:{line}: {terminal_text(why)}")
                continue
            if student_id in first_line:
                problems.append(
                    f"{source}:{line}: student {student_id!r} again "
                    f"(first at line {first_line[student_id]})"
                )
                continue
            first_line[student_id] = line
            try:
                times[student_id] = _time(cell, zone)
            except ValueError as exc:
                problems.append(f"{source}:{line}: {terminal_text(str(exc))}")
    except csv.Error as exc:
        problems.append(f"{source}:{reader.line_num}: unreadable CSV: {exc}")
    if where is None and not problems:
        problems.append(f"{source}:1: no header; expected {','.join(columns)}")
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise TimesCSVError(f"{source}: {count}, nothing graded:\n" + "\n".join(problems))
    return times


def read_times_csv(
    path: str | Path, columns: tuple[str, str] = DEFAULT_COLUMNS, zone: tzinfo | None = None
) -> dict[str, datetime]:
    """Read and validate an LMS export of submission times (see :func:`parse_times_csv`).

    Raises:
        TimesCSVError: Missing or unreadable file, or every problem in it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TimesCSVError(f"{path}: file of submission times not found") from None
    except OSError as exc:
        raise TimesCSVError(
            f"{path}: cannot read the file of submission times: {exc.strerror}"
        ) from None
    text = csv_input.decode(data, str(path), TimesCSVError)
    return parse_times_csv(text, str(path), columns, zone)
