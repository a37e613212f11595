"""``autograder batch ASSIGNMENT FOLDER --db GRADEBOOK``: grade a folder into the gradebook.

Exit status: 0 when everything was graded or skipped, 1 when something failed to grade (listed
in the summary and recorded), 130 after Ctrl-C (what was recorded stays; rerun to finish).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rich.console import Console

from autograder.batch.run import run_batch
from autograder.batch.times_csv import DEFAULT_COLUMNS, read_times_csv, time_zone
from autograder.errors import TimesCSVError
from autograder.final.deadlines import batch_deadline_notes
from autograder.gradebook import POLICIES, open_gradebook
from autograder.views.console import render_notes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="grade a folder of submissions into a gradebook (resumable)",
        description="Grade every submission in FOLDER: <student>/hw1.py, <student>.py, "
        "<student>.zip, or the hw1/<student>/<time>/ folders 'autograder submit' writes. "
        "Already graded files (same file, spec and grader version) are skipped.",
    )
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("folder", type=Path, help="folder of submissions")
    p.add_argument("--db", required=True, help="gradebook: a .sqlite file or sqlite:/// URL")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_positive,
        help="parallel workers (default: one per core, fewer if memory is short); with more "
        "than one, each is a grader process of its own (about 0.9 GB with its zygote)",
    )
    where.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="grade on a Dask cluster, e.g. tcp://HOST:8786 (its workers: 'dask worker "
        "ADDRESS --nworkers N --nthreads 1'; needs pip install 'autograder[cluster]')",
    )
    p.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    p.add_argument("--skip-benchmarks", action="store_true", help="skip training benchmarks")
    p.add_argument(
        "--policy",
        choices=POLICIES,
        default="latest",
        help="which attempt counts in the closing statistics (default: latest)",
    )
    p.add_argument(
        "--times",
        type=Path,
        metavar="CSV",
        help="the LMS export of submission times (student id and time columns); default: each "
        "file is timed by when the collection received it (its ctime; a copy resets it)",
    )
    p.add_argument(
        "--times-columns",
        default=",".join(DEFAULT_COLUMNS),
        metavar="ID,TIME",
        help="the --times header names of the student id and time columns (default: %(default)s)",
    )
    p.add_argument(
        "--times-zone",
        metavar="ZONE",
        help="time zone of --times values written without an offset, e.g. Europe/Moscow",
    )
    p.add_argument("--course", help="course folder with assignments/ and reference_solutions/")
    p.add_argument("--data", help="benchmark data folder (overrides AUTOGRADER_DATA)")
    p.add_argument("--insecure", action="store_true", help="run without OS isolation")
    p.set_defaults(func=run)


def _times(args: argparse.Namespace) -> dict[str, datetime] | None:
    """The LMS export's times, read and validated before anything is graded."""
    if args.times is None:
        return None
    columns = tuple(name.strip() for name in args.times_columns.split(","))
    if len(columns) != 2 or not all(columns):
        raise TimesCSVError(f"--times-columns {args.times_columns!r}: give two names, ID,TIME")
    zone = time_zone(args.times_zone) if args.times_zone else None
    return read_times_csv(args.times, columns, zone)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    from autograder.spec.course import find_course
    from autograder.spec.load import load_assignment

    course = find_course(args.course)
    loaded = load_assignment(args.assignment, course)
    times = _times(args)
    console = console or Console()
    if not args.skip_benchmarks and any(t.is_benchmark for t in loaded.spec.tasks):
        from autograder.trusted.secret import SECRET_ENV, course_secret

        if course_secret().public:
            console.print(
                "[bold]note:[/] no course secret is set: training orders and held-out splits "
                "use the public development value, which students can reproduce. Run "
                f"'autograder secret init' (or set {SECRET_ENV}) before grading for real.",
                highlight=False,
            )
    book = open_gradebook(args.db)
    try:
        summary = run_batch(
            loaded,
            args.folder,
            book,
            workers=args.workers,
            regrade=args.regrade,
            skip_benchmarks=args.skip_benchmarks,
            policy=args.policy,
            grader_options={"data_root": args.data, "insecure": args.insecure},
            console=console,
            cluster=args.cluster,
            times=times,
        )
        notes = batch_deadline_notes(course.root, book, loaded.spec.id, args.policy)
        render_notes(console, notices=notes.notices, alarms=notes.warnings)
    finally:
        book.close()
    if summary.interrupted:
        return 130
    return 1 if summary.failures else 0
