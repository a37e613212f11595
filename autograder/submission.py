"""What a submission is, wherever it comes from: one Python file of at most ``MAX_FILE_BYTES``,
filed under a student id. The engine grades bytes; this is the one place that reads a file for it
and the one set of rules a student id must satisfy (batch intake, exports, ``submit``).
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.errors import SubmissionError

MAX_FILE_BYTES = 1_000_000
# Characters no file system or spreadsheet treats kindly in an id that names a folder.
_BAD_ID_CHARS = set('/\\:*?"<>|')
# What ``submit`` itself creates: a conservative spelling that every layout accepts.
_SUBMIT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


def printable(name: str) -> str:
    """A name fit for messages: undecodable bytes as ``\\xNN``, controls escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def is_utf8(name: str) -> bool:
    """False when a name read from disk holds bytes that are not UTF-8 (surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def student_id_problem(student_id: str) -> str | None:
    """Why ``student_id`` is not a valid id anywhere (batch, exports), or None when it is."""
    if not student_id:
        return "empty student id"
    if not is_utf8(student_id):
        return "student id is not valid UTF-8"
    if student_id in (".", "..") or student_id.startswith("."):
        return f"student id {printable(student_id)!r} starts with '.'"
    bad = sorted({c for c in student_id if c in _BAD_ID_CHARS or ord(c) < 32 or ord(c) == 127})
    if bad:
        return f"student id {printable(student_id)!r} contains {' '.join(map(repr, bad))}"
    if student_id != student_id.strip():
        return f"student id {student_id!r} starts or ends with a space"
    if len(student_id) > 128:
        return "student id is longer than 128 characters"
    return None


def submit_id_problem(student_id: str) -> str | None:
    """The stricter rule for ids ``submit`` makes folders of; everything it accepts is also a
    valid id by :func:`student_id_problem`."""
    if "/" in student_id or "\\" in student_id:
        return f"student id {student_id!r} contains a path separator"
    if ".." in student_id:
        return f"student id {student_id!r} contains '..'"
    if student_id.startswith("."):
        return f"student id {student_id!r} starts with '.'"
    if not _SUBMIT_ID.fullmatch(student_id):
        return (
            f"student id {student_id!r}: use 1 to 64 letters, digits and . _ - @ +, starting with a "
            "letter or digit"
        )
    return student_id_problem(student_id)


def read_submission(path: Path | str) -> bytes:
    """The submission's bytes; ``SubmissionError`` with a plain reason when it cannot be graded."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file")
    if path.is_dir():
        raise SubmissionError(f"{path}: is a folder, expected a .py file")
    if path.suffix != ".py":
        raise SubmissionError(f"{path}: not a Python file (expected a .py file)")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SubmissionError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot read: {exc.strerror}") from None
