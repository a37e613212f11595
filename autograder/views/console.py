"""Rich rendering of reports for people. No grading logic: reads a Report, prints it.

Every string a submission can influence (messages, the file name, the import error) goes through
``safe_text.plain``: no escape sequence reaches the terminal and no ``[...]`` is read as markup.
Points are written by ``autograder.points`` from the exact values.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.points import decimal_text, parse_fraction
from autograder.report import Report
from autograder.safe_text import plain

_STYLE = {
    "passed": "green",
    "partial": "yellow",
    "skipped": "dim",
}


def _points(exact: str) -> str:
    return decimal_text(parse_fraction(exact))


def render_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Per-task table (points, status, what went wrong) and a total line."""
    title = plain(f"{report.title}  [{report.submission}]")
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("Task", no_wrap=True)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details", ratio=1)
    for task in report.tasks:
        style = _STYLE.get(task.status, "red")
        points = (
            "—"
            if task.status == "skipped"
            else f"{_points(task.score_exact)} / {_points(task.max_score_exact)}"
        )
        name = plain(task.id)
        if task.visibility == "hidden":
            name.append(" (hidden)", style="dim")
        details = task.message
        if verbose and task.visibility == "public":
            lines = [
                f"{c.id}: {c.status} {_points(c.score_exact)}/{_points(c.max_score_exact)} "
                f"{c.message}".rstrip()
                for c in task.checks
            ]
            details = "\n".join([details, *lines])
        table.add_row(name, Text(points), Text(task.status, style=style), plain(details))
    console.print(table)
    if report.submission_status != "graded":
        console.print(
            Text.assemble(
                (f"{report.submission_status}:", "red"), " ", plain(report.submission_message)
            )
        )
    skipped = [t for t in report.tasks if t.status == "skipped"]
    left_out = sum((parse_fraction(t.max_score_exact) for t in skipped), parse_fraction("0"))
    note = f" ({decimal_text(left_out)} points skipped)" if skipped else ""
    total = f"Total: {_points(report.score_exact)} / {_points(report.max_score_exact)}"
    console.print(Text.assemble((total, "bold"), note))


def render_notes(
    console: Console,
    *,
    notices: Iterable[str] = (),
    warnings: Iterable[str] = (),
    alarms: Iterable[str] = (),
) -> None:
    """Notices (``note: ...``), warnings (``warning: ...``) and alarms (``WARNING: ...`` in bold
    red: a setting that is probably wrong and costs students points, such as last term's
    deadlines)."""
    for notice in notices:
        console.print(Text.assemble(("note: ", "cyan"), plain(notice)), soft_wrap=True)
    for warning in warnings:
        console.print(plain(f"warning: {warning}", style="yellow"), soft_wrap=True)
    for alarm in alarms:
        console.print(
            Text.assemble(("WARNING: ", "bold red"), plain(alarm, style="yellow")),
            soft_wrap=True,
        )
