"""``autograder submit ASSIGNMENT FILE --student-id ID --to DEST``: check, then file an attempt."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from autograder.errors import AutograderError
from autograder.points import decimal_text, parse_fraction
from autograder.safe_text import plain
from autograder.student.submit import submit
from autograder.views.console import render_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit",
        help="run the public checks, then file the submission as a new attempt in DEST",
        description="Writes DEST/<assignment>/<ID>/<UTC time>/ with the file and a manifest "
        "(sha256, size, time, grader version, local public score), the layout 'autograder "
        "batch' reads. Earlier attempts are never overwritten. A file that does not import is "
        "refused unless --force.",
    )
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("file", type=Path, help="the .py file to submit")
    p.add_argument(
        "--student-id", required=True, help="your student id (letters, digits, . _ - @ +)"
    )
    p.add_argument(
        "--to", type=Path, required=True, dest="dest", help="the course's submission folder"
    )
    p.add_argument("--force", action="store_true", help="submit even if the file does not import")
    p.add_argument("--kit", type=Path, help="student kit folder to check against")
    p.add_argument("--course", help="course folder to check against (staff)")
    p.add_argument("--json", action="store_true", help="print the attempt's manifest as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.kit is not None and args.course:
        raise AutograderError("--kit and --course exclude each other: pass one")
    done = submit(
        args.assignment,
        args.file,
        student_id=args.student_id,
        dest=args.dest,
        kit=args.kit,
        course=args.course,
        force=args.force,
    )
    if args.json:
        sys.stdout.write(
            json.dumps({"attempt": str(done.attempt), **done.manifest.model_dump()}, indent=2)
            + "\n"
        )
        return 0
    console = Console()
    render_report(done.report, console)
    check = done.manifest.local_check
    score = decimal_text(parse_fraction(check.score_exact))
    top = decimal_text(parse_fraction(check.max_score_exact))
    console.print(
        Text.assemble(
            "Submitted ",
            plain(str(done.attempt), style="bold"),
            f" (sha256 {done.manifest.sha256[:12]}, local public score {score} / {top})",
        )
    )
    if done.manifest.forced:
        console.print(
            "[yellow]Submitted with --force: the file does not import and will score 0.[/yellow]"
        )
    return 0
