"""``autograder check ASSIGNMENT FILE``: grade one file and show the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from autograder.safe_text import plain
from autograder.spec.course import find_course
from autograder.spec.load import load_assignment
from autograder.submission import read_submission
from autograder.trusted.supervisor import launch_early
from autograder.views.console import render_report

# The engine (and so torch) is imported only after the zygote has started: both imports take
# seconds, and on two or more cores they overlap (about 2 s off a check on 2 cores).


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="grade one submission file and print the report")
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("file", type=Path, help="the submitted .py file")
    p.add_argument("--json", action="store_true", help="print one JSON report instead of a table")
    p.add_argument("--verbose", "-v", action="store_true", help="show every check")
    p.add_argument(
        "--skip-benchmarks", action="store_true", help="skip training benchmarks (fast feedback)"
    )
    p.add_argument("--course", help="course folder with assignments/ and reference_solutions/")
    p.add_argument("--data", help="benchmark data folder (overrides AUTOGRADER_DATA)")
    p.add_argument("--insecure", action="store_true", help="run hidden tasks without OS isolation")
    p.add_argument(
        "--kit", type=Path, help="student kit folder: grade its public tasks, no course needed"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "kit", None) is not None:
        return _run_kit(args)
    loaded = load_assignment(args.assignment, find_course(args.course))
    read_submission(args.file)  # fail fast, before starting workers, on a missing file
    early = launch_early(scratch_mb=loaded.spec.limits.scratch_mb, insecure=args.insecure)
    from autograder.trusted.engine import Grader

    with Grader(
        loaded,
        skip_benchmarks=args.skip_benchmarks,
        data_root=args.data,
        insecure=args.insecure,
        prelaunched=early,
    ) as grader:
        report = grader.grade(args.file)
    _show(report, args)
    return 0


def _run_kit(args: argparse.Namespace) -> int:
    """Grade from a student kit alone: no course lookup, no reference solution."""
    from autograder.errors import AutograderError

    if args.course:
        raise AutograderError("--kit and --course exclude each other: pass one")
    read_submission(args.file)
    early = launch_early(scratch_mb=_kit_scratch_mb(args.kit), insecure=args.insecure)
    from autograder.student.kit import kit_grader, kit_note, load_kit

    kit = load_kit(args.kit, args.assignment)
    with kit_grader(
        kit, skip_benchmarks=args.skip_benchmarks, insecure=args.insecure, prelaunched=early
    ) as grader:
        report = grader.grade(args.file)
    _show(report, args, kit_note(kit))
    return 0


def _kit_scratch_mb(folder: Path) -> int:
    """The scratch size in the kit's spec, read without importing torch (``autograder.student.kit``
    does). A guess when unreadable: ``load_kit`` then says what is wrong, and a Grader closes a
    zygote started with other settings and starts its own."""
    from autograder.errors import KitError
    from autograder.spec.models import Limits
    from autograder.student.kit_layout import SPEC_FILE, kit_folder

    try:
        spec = json.loads((kit_folder(folder) / SPEC_FILE).read_text(encoding="utf-8"))
        return int(spec["limits"]["scratch_mb"])
    except (KitError, OSError, ValueError, KeyError, TypeError):
        return Limits().scratch_mb


def _show(report, args: argparse.Namespace, note: str | None = None) -> None:
    if args.json:
        sys.stdout.write(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
        return
    console = Console()
    render_report(report, console, verbose=args.verbose)
    if note:
        console.print(plain(note, "dim"))
