"""``autograder adjust --db GRADEBOOK hw1 STUDENT TASK POINTS --reason ...``: a TA override.

The points replace the task's score in every export and the report, shown with the reason;
the graded result itself is kept. The newest override of a task wins.
"""

from __future__ import annotations

import argparse
import getpass
from fractions import Fraction

from rich.console import Console

from autograder.errors import AutograderError
from autograder.export import build_sheet
from autograder.gradebook import open_gradebook
from autograder.points import decimal_text


def _points(text: str) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"expected points like 2, 2.5 or 5/2, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"points cannot be negative, got {text!r}")
    return value


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("adjust", help="override one task's score for one student")
    p.add_argument("--db", required=True, help="gradebook: a .sqlite file or sqlite:/// URL")
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("student", help="student id as in the gradebook")
    p.add_argument("task", help="task id from the assignment spec")
    p.add_argument("points", type=_points, help="the task's new score, e.g. 2.5 or 5/2")
    p.add_argument("--reason", required=True, help="why (shown in exports and the report)")
    p.add_argument("--author", default=None, help="who (default: your login name)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if not args.reason.strip():
        raise AutograderError("--reason must say why the score changes")
    book = open_gradebook(args.db, create=False)
    try:
        sheet = build_sheet(book, args.assignment)
        student = next((s for s in sheet.students if s.student_id == args.student), None)
        if student is None:
            raise AutograderError(
                f"student {args.student!r} has no attempt for {args.assignment!r} in {args.db}"
            )
        column = next((c for c in sheet.tasks if c.id == args.task), None)
        if sheet.tasks and column is None:
            known = ", ".join(c.id for c in sheet.tasks)
            raise AutograderError(f"{args.assignment} has no task {args.task!r} (tasks: {known})")
        if column is not None and args.points > column.max_score:
            # Final grades refuse a homework above its maximum; refuse it here, at the source.
            raise AutograderError(
                f"{decimal_text(args.points)} is above the maximum of task {args.task!r} "
                f"({decimal_text(column.max_score)} points)"
            )
        before = next((t.score for t in student.tasks if t.task_id == args.task), None)
        adjustment_id = book.add_adjustment(
            assignment=args.assignment,
            student_id=args.student,
            task_id=args.task,
            points=args.points,
            reason=args.reason.strip(),
            author=args.author or _author(),
        )
    finally:
        book.close()
    was = "-" if before is None else decimal_text(before)
    console.print(
        f"{args.assignment}/{args.student}/{args.task}: {was} -> "
        f"{decimal_text(args.points)} ({args.reason.strip()}); adjustment #{adjustment_id}",
        markup=False,
    )
    return 0
