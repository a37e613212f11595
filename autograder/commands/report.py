"""``autograder report --db GRADEBOOK --out report/``: the static HTML report for TAs."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from autograder.gradebook import POLICIES, open_gradebook


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="write a static HTML report (histogram, pass rates, failures) and PNGs"
    )
    p.add_argument("--db", required=True, help="gradebook: a .sqlite file or sqlite:/// URL")
    p.add_argument("--out", type=Path, required=True, help="folder for index.html and the PNGs")
    p.add_argument(
        "--assignment",
        action="append",
        dest="assignments",
        metavar="ID",
        help="only this assignment (repeatable; default: all)",
    )
    p.add_argument(
        "--policy",
        choices=POLICIES,
        default="latest",
        help="which attempt counts (default: latest)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    from autograder.views.html import write_report  # pulls in matplotlib

    console = console or Console()
    book = open_gradebook(args.db, create=False)
    try:
        index = write_report(book, args.out, assignments=args.assignments, policy=args.policy)
    finally:
        book.close()
    plots = len(list(args.out.glob("*.png")))
    console.print(f"wrote {index} ({plots} PNG plots beside it)", markup=False)
    return 0
