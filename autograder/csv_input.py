"""Reading CSV text that a spreadsheet or an LMS exported: the encoding and the separator.

Shared by the exam CSV (``final/exam_csv.py``) and the LMS export of submission times
(``batch/times_csv.py``), so both accept the same files: UTF-8 with or without a byte-order
mark, ``,``, ``;`` or tab separators found with ``csv.Sniffer``, or named by Excel's ``sep=;``
first line.
"""

from __future__ import annotations

import csv
import re

from autograder.errors import AutograderError

_SEPARATORS = ",;\t"
_SEP_LINE = re.compile(r"sep=([,;\t|])")


def decode(data: bytes, source: str, error: type[AutograderError]) -> str:
    """The file's text without a BOM; ``error`` naming the first line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{source}:{line}: not UTF-8 text (export the sheet as 'CSV UTF-8')") from None


def separator(text: str) -> str:
    """Excel's ``sep=;`` first line, else the sniffed separator (the header alone when the
    rows confuse the sniffer), else ``,``."""
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    directive = _SEP_LINE.fullmatch(first.strip())
    if directive:
        return directive.group(1)
    sniffer = csv.Sniffer()
    for sample in (text[:65536], first):
        try:
            return sniffer.sniff(sample, delimiters=_SEPARATORS).delimiter
        except csv.Error:
            continue
    return ","  # a one-column file: the caller's header check names the missing column


def is_separator_line(row: list[str], sep: str) -> bool:
    """True for Excel's ``sep=;`` line, which comes before the header."""
    return _SEP_LINE.fullmatch(sep.join(row).strip()) is not None
