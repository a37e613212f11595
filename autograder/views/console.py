"""Rich rendering of reports for people. No grading logic: reads a Report, prints it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.report import Report

_STYLE = {
    "passed": "green",
    "partial": "yellow",
    "skipped": "dim",
}


def render_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Per-task table (points, status, what went wrong) and a total line."""
    # Text, never markup: paths and messages (a student's exception text) may hold "[/...]"
    table = Table(
        title=Text(f"{report.title}  [{report.submission}]"), show_lines=True, expand=True
    )
    table.add_column("Task", no_wrap=True)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details", ratio=1)
    for task in report.tasks:
        style = _STYLE.get(task.status, "red")
        points = "—" if task.status == "skipped" else f"{task.score:g} / {task.max_score:g}"
        name = Text(task.id)
        if task.visibility == "hidden":
            name.append(" (hidden)", style="dim")
        details = task.message
        if verbose and task.visibility == "public":
            lines = [
                f"{c.id}: {c.status} {c.score:g}/{c.max_score:g} {c.message}".rstrip()
                for c in task.checks
            ]
            details = "\n".join([details, *lines])
        table.add_row(name, points, Text(task.status, style=style), Text(details))
    console.print(table)
    if report.submission_status != "graded":
        console.print(
            Text.assemble((f"{report.submission_status}:", "red"), f" {report.submission_message}")
        )
    skipped = [t for t in report.tasks if t.status == "skipped"]
    note = f" ({sum(t.max_score for t in skipped):g} points skipped)" if skipped else ""
    console.print(f"[bold]Total: {report.score:g} / {report.max_score:g}[/bold]{note}")
