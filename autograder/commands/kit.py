"""``autograder kit ASSIGNMENT --out DIR``: build the student kit (template, public checks, no answers)."""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.spec.course import find_course
from autograder.spec.load import load_assignment
from autograder.student.kit import build_kit
from autograder.student.template import points_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kit",
        help="build a student kit: README, template, public checks with expected results",
        description="Write DIR/README.md, DIR/<student file> (a template) and DIR/kit/ (public "
        "probes and the reference's results as data, with a manifest of hashes). Nothing of the "
        "reference source or of hidden tasks goes in. DIR must not exist or be empty.",
    )
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("--out", type=Path, required=True, help="new folder for the kit")
    p.add_argument("--course", help="course folder with assignments/ and reference_solutions/")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_assignment(args.assignment, find_course(args.course))
    kit = build_kit(loaded, args.out)
    m = kit.manifest
    table = Table(title=f"Student kit for {m.assignment}: {args.out}")
    for column in ("Task", "Points", "In the kit"):
        table.add_column(column)
    for task in kit.loaded.spec.tasks:
        local = "server only (benchmark)" if task.id in m.server_only else "checked locally"
        table.add_row(task.id, points_text(task.points), local)
    if m.hidden_tasks:
        table.add_row(
            f"{m.hidden_tasks} hidden", points_text(Fraction(m.hidden_points)), "left out"
        )
    console = Console()
    console.print(table)
    console.print(
        f"Probes: {len(kit.plan.probes())}; files: README.md, {m.student_file}, kit/ ({', '.join(m.files)})"
    )
    return 0
