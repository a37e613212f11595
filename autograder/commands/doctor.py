"""``autograder doctor``: which worker isolation layers work on this machine, and why not."""

from __future__ import annotations

import argparse
import json

from rich.console import Console

from autograder import sandbox


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="show which isolation layers protect the grader here"
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    report = sandbox.doctor()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        sandbox.render_doctor(report, console or Console())
    return 0
