"""``autograder describe`` for people: a homework's public tasks as a student reads them.

Reads a ``student.describe.Description``; no grading logic. Spec text goes through
``safe_text.plain`` like every other renderer's (a kit's spec sits on the student's machine).
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.text import Text

from autograder.points import exact_text, parse_fraction
from autograder.safe_text import plain
from autograder.student.describe import Check, Description, TaskDescription


def _points(exact: str) -> str:
    value = parse_fraction(exact)
    return f"{exact_text(value)} point{'' if value == 1 else 's'}"


def _symbol_line(symbol) -> str:
    if symbol.kind == "class":
        head = f"class {symbol.name}({symbol.base})" if symbol.base else f"class {symbol.name}"
        head += f", built as {symbol.name}{symbol.signature}" if symbol.signature else ""
    else:
        head = f"{symbol.name}{symbol.signature}"
    return f"{head}: {symbol.doc}" if symbol.doc else head


def _routes(routes: list[str]) -> str:
    """Python-level names first, then the dispatcher's ops (``torch.ops.aten``) as one group."""
    aten = "torch.ops.aten."
    python = [r for r in routes if not r.startswith(aten)]
    ops = [r.removeprefix(aten) for r in routes if r.startswith(aten)]
    return ", ".join(python) + (f"; dispatcher ops {aten}{{{', '.join(ops)}}}" if ops else "")


def _check_line(check: Check) -> str:
    what = ", ".join(x for x in (check.kind, check.symbol or "") if x)
    line = f"{check.id} ({what}; {_points(check.points)})"
    if check.title:
        line += f": {check.title}"
    if check.cases:
        line += f"\n      calls: {'; '.join(check.cases)}"
    for name, value in check.details.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        line += f"\n      {name}: {shown}"
    return line


def _task(console: Console, task: TaskDescription) -> None:
    console.print()
    console.print(
        Text.assemble(
            ("Task ", "bold"),
            plain(task.id, "bold"),
            f" ({_points(task.points)}): ",
            plain(task.title),
        )
    )
    console.print(Text("  Implement:", style="bold"))
    for symbol in task.symbols:
        console.print(plain(f"    {_symbol_line(symbol)}"), soft_wrap=True)
    if task.forbid:
        console.print(
            Text.assemble(("  You may not call: ", "bold red"), plain(task.forbid_summary)),
            soft_wrap=True,
        )
        for entry in task.forbid:
            console.print(
                plain(f"    {entry.entry}: {_routes(entry.routes)}", "dim"), soft_wrap=True
            )
    console.print(Text(f"  Checks ({len(task.checks)}):", style="bold"))
    for check in task.checks:
        console.print(plain(f"    {_check_line(check)}"), soft_wrap=True)


def render_description(description: Description, console: Console) -> None:
    """Title, points, description, then every public task; hidden tasks as a count."""
    d = description
    console.print(
        Text.assemble(
            plain(d.title, "bold"), f"  ({d.id}, {_points(d.points)}, file {d.student_file})"
        )
    )
    if d.description:
        console.print(plain(d.description), soft_wrap=True)
    for task in d.tasks:
        _task(console, task)
    console.print()
    if d.hidden_tasks:
        tasks = "task" if d.hidden_tasks == 1 else "tasks"
        console.print(
            f"Also {d.hidden_tasks} hidden {tasks} worth {_points(d.hidden_points)}: they test "
            "the same functions and classes on inputs you do not see.",
            markup=False,
        )
    else:
        console.print("No hidden tasks.", markup=False)
