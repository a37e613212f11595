"""``autograder describe ASSIGNMENT``: what a homework asks, from its spec alone.

Title, points, each public task's symbols, forbidden APIs (every route) and checks, hidden
tasks as a count and points. ``--kit DIR`` reads a student kit's public spec instead of the
course; ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from autograder.errors import AutograderError
from autograder.student.describe import describe, describe_kit
from autograder.views.description import render_description


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "describe",
        help="what a homework asks: tasks, points, symbols, forbidden APIs, checks",
    )
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("--kit", type=Path, help="a student kit folder: describe its public spec")
    p.add_argument("--course", help="course folder with assignments/ (staff)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    if args.kit is not None:
        if args.course:
            raise AutograderError("--kit and --course exclude each other: pass one")
        found = describe_kit(args.kit)
        if found.id != args.assignment:
            raise AutograderError(f"{args.kit}: the kit is for {found.id}, not {args.assignment}")
    else:
        from autograder.spec.course import find_course
        from autograder.spec.load import load_assignment

        found = describe(load_assignment(args.assignment, find_course(args.course)).spec)
    if args.json:
        sys.stdout.write(found.model_dump_json(indent=2) + "\n")
        return 0
    render_description(found, console or Console())
    return 0
