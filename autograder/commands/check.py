"""``autograder check ASSIGNMENT FILE``: grade one file and show the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from autograder.course import find_course
from autograder.engine import Grader, read_submission
from autograder.loading import load_assignment
from autograder.render import render_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="grade one submission file and print the report")
    p.add_argument("assignment", help="assignment id, e.g. hw1")
    p.add_argument("file", type=Path, help="the submitted .py file")
    p.add_argument("--json", action="store_true", help="print one JSON report instead of a table")
    p.add_argument("--verbose", "-v", action="store_true", help="show every check")
    p.add_argument("--skip-benchmarks", action="store_true", help="skip training benchmarks (fast feedback)")
    p.add_argument("--course", help="course folder with assignments/ and reference_solutions/")
    p.add_argument("--data", help="benchmark data folder (overrides AUTOGRADER_DATA)")
    p.add_argument("--insecure", action="store_true", help="run hidden tasks without OS isolation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_assignment(args.assignment, find_course(args.course))
    read_submission(args.file)  # fail fast, before starting workers, on a missing file
    with Grader(loaded, skip_benchmarks=args.skip_benchmarks, data_root=args.data, insecure=args.insecure) as grader:
        report = grader.grade(args.file)
    if args.json:
        sys.stdout.write(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    else:
        render_report(report, Console(), verbose=args.verbose)
    return 0
