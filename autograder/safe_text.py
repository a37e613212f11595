"""Text a student's code can influence, made safe for where it is shown.

A submission chooses its exception messages, its printed output, its file and folder names
(which become student ids and sources) and, through them, much of what a report says. Printed
raw, that text drives the reader's terminal: it can clear the screen, retitle the window, write
the clipboard (OSC 52), ring the bell, or hide and reorder what follows (carriage returns,
bidirectional overrides). Rich would also read ``[bold]`` in it as markup.

- :func:`terminal_text` is the one rule for terminals: escape sequences are removed whole,
  every other control character is shown as ``\\xNN`` / ``\\uNNNN``; newlines and tabs stay.
- :func:`plain` wraps that in a rich ``Text``, which rich never parses as markup: every renderer
  prints student text through it.
- :func:`spreadsheet_cell` is the one rule for CSV cells: a cell a spreadsheet would run as a
  formula starts with ``'``.

HTML pages escape everything they show (``views/html_page.py``); JSON output escapes control
characters itself.
"""

from __future__ import annotations

import re

from rich.text import Text

# ECMA-48 sequences a terminal acts on: CSI (ESC [ or the 8-bit 0x9b) with its parameters;
# OSC, DCS, SOS, PM and APC strings up to their terminator (BEL or ST), or the end of the line
# when unterminated; and the short ESC forms (ESC c, ESC ( B, ESC 7 ...).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\n]*?(?:\x07|\x1b\\|\x9c|(?=\n)|$)"
    r"|\x1b[ -/]*[0-~]?"
)
# Other C0 and C1 controls (not tab or newline), DEL, and the characters that reorder or hide
# text: bidirectional marks, embeddings, overrides and isolates, line and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# Spreadsheets run a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """``text`` fit for a terminal: no escape sequence, no control character but ``\\n`` and
    ``\\t`` (others appear as ``\\xNN``), ``\\r\\n`` read as a newline."""
    text = _SEQUENCE.sub("", text.replace("\r\n", "\n"))
    return _CONTROL.sub(_visible, text)


def plain(text: str, style: str = "") -> Text:
    """A rich ``Text`` of :func:`terminal_text`: printed as it is, never as markup."""
    return Text(terminal_text(text), style=style)


def spreadsheet_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``'`` where it would see a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text
