"""``autograder export --db GRADEBOOK --assignment hw1 --format csv|json|gradescope``.

CSV and JSON go to stdout unless ``--out FILE``; Gradescope needs ``--out DIR`` and writes
``DIR/<student_id>/results.json``. Every file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from autograder.errors import AutograderError
from autograder.export import FORMATS, build_sheet, to_csv, to_json, write_gradescope
from autograder.export.files import atomic_write_text
from autograder.gradebook import POLICIES, open_gradebook


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export grades as CSV, JSON or Gradescope files")
    p.add_argument("--db", required=True, help="gradebook: a .sqlite file or sqlite:/// URL")
    p.add_argument("--assignment", required=True, help="assignment id, e.g. hw1")
    p.add_argument("--format", choices=FORMATS, default="csv", help="default: csv")
    p.add_argument("--out", type=Path, help="file (csv, json) or folder (gradescope)")
    p.add_argument(
        "--policy",
        choices=POLICIES,
        default="latest",
        help="which attempt counts (default: latest)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    err = console or Console(stderr=True)
    if args.format == "gradescope" and args.out is None:
        raise AutograderError("--format gradescope needs --out DIR (one results.json per student)")
    book = open_gradebook(args.db, create=False)
    try:
        known = book.assignments()
        if args.assignment not in known:
            raise AutograderError(
                f"assignment {args.assignment!r} has no attempts in {args.db} "
                f"(it has: {', '.join(known) or 'none'})"
            )
        sheet = build_sheet(book, args.assignment, args.policy)
    finally:
        book.close()
    if sheet.unidentified:
        err.print(
            f"warning: {len(sheet.unidentified)} submissions with no valid student id are "
            "not exported; see 'autograder report'",
            style="yellow",
            markup=False,
        )
    if args.format == "gradescope":
        written = write_gradescope(sheet, args.out)
        err.print(f"wrote {len(written)} results.json files under {args.out}", markup=False)
        return 0
    text = to_csv(sheet) if args.format == "csv" else to_json(sheet)
    if args.out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(args.out, text)
        err.print(f"wrote {args.out}: {len(sheet.students)} students", markup=False)
    return 0
