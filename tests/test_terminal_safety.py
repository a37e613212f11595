"""Student-controlled text never drives the reader's terminal (issue 13, class 8).

A submission's exception messages and output carry escape sequences (clear screen, window
title, OSC 52 clipboard, 8-bit C1 controls), BEL, a carriage return, a bidirectional override
and rich markup (``tests/hostile/terminal_escapes.py``). Through ``check -v``, ``batch``, the
final breakdown and the exports, none of it arrives raw: ``safe_text`` is the one rule.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from autograder.safe_text import plain, spreadsheet_cell, terminal_text

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile" / "terminal_escapes.py"
# what a terminal would act on: ESC, BEL, CR, the 8-bit CSI/OSC/ST, a bidi override
RAW = ["\x1b", "\x07", "\r", "\x9b", "\x9d", "\x9c", "\u202e"]


def _raw(text: str) -> list[str]:
    return [repr(c) for c in RAW if c in text]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[2Jb", "ab"),
        ("x\x1b]0;title\x07y", "xy"),
        ("c\x1b]52;c;ZXZpbA==\x1b\\d", "cd"),
        ("\x9b31mred\x9d0;t\x9c!", "red!"),
        ("bell\x07 cr\rx", "bell\\x07 cr\\x0dx"),
        ("keep\ttabs\nand lines\r\n", "keep\ttabs\nand lines\n"),
        ("\u202eevil \u2066x\u2069", "\\u202eevil \\u2066x\\u2069"),
        ("unterminated \x1b]0;title\nnext line", "unterminated \nnext line"),
        ("[bold]not markup[/bold] 50%", "[bold]not markup[/bold] 50%"),
    ],
)
def test_terminal_text(text: str, shown: str) -> None:
    assert terminal_text(text) == shown


def test_plain_is_never_markup() -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(plain("[bold red]LOOK[/bold red] :smile: \x1b[2J"))
    assert console.file.getvalue() == "[bold red]LOOK[/bold red] :smile: \n"


def test_spreadsheet_cells_never_run_as_formulas() -> None:
    for text in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_cell(text) == "'" + text
    assert spreadsheet_cell("s123") == "s123"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "COLUMNS": "1000"},  # one table row per line: messages not wrapped
    )


@pytest.mark.slow
def test_check_verbose_prints_no_escape_and_no_markup(tmp_path: Path) -> None:
    submission = Path(shutil.copy(HOSTILE, tmp_path / "hw1.py"))
    done = _run("check", "hw1", str(submission), "-v", "--skip-benchmarks", "--insecure")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "sigmoid-forward" in out and "ValueError" in out  # the messages are shown...
    assert _raw(out) == [], out  # ...with nothing a terminal would act on
    assert "[bold red]LOOK[/bold red]" in out  # markup printed as it is
    assert "[link=file:///etc/passwd]click[/link]" in out
    assert "\\u202eevil" in out and "\\x07[bold red]" in out  # lone controls: shown escaped
    assert "pwned" not in out and "Y3VybCBl" not in out  # sequences: removed whole

    done = _run("check", "hw1", str(submission), "--json", "--skip-benchmarks", "--insecure")
    assert done.returncode == 0 and _raw(done.stdout) == []
    report = json.loads(done.stdout)  # JSON escapes control characters; the data keeps them
    assert "\x1b]52;c;" in report["stdout_tail"]


@pytest.mark.slow
def test_batch_breakdown_and_exports_print_no_escape(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(HOSTILE, subs / "evil\u202e.py")  # a valid id that reverses the line after it
    (subs / "bell\x07\x1b]0;t\x07.py").write_text("x = 1\n")  # an invalid id: a recorded problem
    (subs / "crash.py").write_text("import os\nos._exit(3)\n")
    (subs / "<img src=x onerror=alert(1)>.py").write_text("x = 1\n")  # for the HTML report
    db = tmp_path / "gradebook.sqlite"
    done = _run("batch", "hw1", str(subs), "--db", str(db), "--skip-benchmarks", "--workers", "1")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # the invalid id failed to grade
    assert _raw(out) == [], out
    assert "bell\\x07\\x1b]0;t\\x07.py" in out  # shown, escaped, in the failures table

    done = _run("final", "--db", str(db), "--student", "evil\u202e")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert _raw(out) == [] and "evil\\u202e" in out

    exported = tmp_path / "grades.csv"
    done = _run(
        "export", "--db", str(db), "--assignment", "hw1", "--format", "csv", "--out", str(exported)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(csv.DictReader(exported.open(encoding="utf-8", newline="")))
    assert {r["student_id"] for r in rows} >= {"evil\u202e", "crash"}

    results = tmp_path / "gradescope"
    done = _run(
        "export",
        "--db",
        str(db),
        "--assignment",
        "hw1",
        "--format",
        "gradescope",
        "--out",
        str(results),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for path in results.rglob("results.json"):
        text = path.read_text(encoding="utf-8")
        assert _raw(text) == []  # JSON escapes them; Gradescope shows the data as text
        json.loads(text)

    report = tmp_path / "report"
    done = _run("report", "--db", str(db), "--out", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
