"""A submission's bytes -> the one text that is both scanned and run.

The trusted side parses this text for its forbidden-API scan, and the worker compiles this same
text (never the file re-read through Python's own source decoding). A PEP 263 cookie such as
``# coding: utf-7`` would otherwise make the import run different code from what the scan read,
so any declared encoding but UTF-8 is refused. A UTF-8 byte-order mark is dropped, as Python does.

Pure standard library: both sides import it.
"""

from __future__ import annotations

import codecs
import re

# PEP 263: a comment on line 1 or 2 (line 2 only when line 1 is blank or a comment).
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


class SourceError(ValueError):
    """The bytes are not a submission the grader will run; the message is for the student."""


def declared_encoding(data: bytes) -> str | None:
    """The encoding named by a PEP 263 cookie on the first two lines, if any (as written)."""
    lines = data.split(b"\n", 2)[:2]
    for i, line in enumerate(lines):
        found = _COOKIE.match(line)
        if found:
            return found.group(1).decode("ascii", "replace")
        if i == 0 and not _BLANK_OR_COMMENT.match(line):
            return None
    return None


def decode(data: bytes) -> str:
    """The submission's text: strict UTF-8, a leading BOM dropped. Raises ``SourceError``."""
    declared = declared_encoding(data)
    if declared is not None:
        try:
            canonical = codecs.lookup(declared).name
        except LookupError:
            canonical = ""
        if canonical not in ("utf-8", "utf-8-sig"):
            raise SourceError(
                f"the file declares the encoding {declared!r} (line 1 or 2); "
                "only UTF-8 is accepted: remove the coding line or make it utf-8"
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"the file is not UTF-8 text (byte {exc.start})") from None
