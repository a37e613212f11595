"""``autograder final``: final 10-point grades from the gradebook and the exam CSV.

``--out final.csv`` writes every student's grade (nothing at all when the exam CSV has
problems); ``--student ID`` prints one student's breakdown instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from autograder.errors import GradebookError
from autograder.final.compute import load_final_grades
from autograder.final.final_csv import write_final_csv
from autograder.final.rubric import load_rubric
from autograder.gradebook import POLICIES
from autograder.views.breakdown import render_breakdown
from autograder.views.console import render_notes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "final", help="final grades from the gradebook and the exam CSV (CSV or one breakdown)"
    )
    parser.add_argument("--db", required=True, help="gradebook: a .sqlite file or sqlite:/// URL")
    parser.add_argument("--exam", type=Path, help="exam results CSV with student_id,points")
    parser.add_argument("--rubric", type=Path, help="default: <course>/rubrics/course.toml")
    parser.add_argument(
        "--policy",
        choices=POLICIES,
        default="latest",
        help="which attempt counts (best: most points after late penalties)",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, help="write the final grades CSV here")
    what.add_argument("--student", metavar="ID", help="print this student's breakdown")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if args.rubric is not None:
        rubric = load_rubric(args.rubric)
    else:
        from autograder.spec.course import find_course

        rubric = load_rubric(course_dir=find_course(getattr(args, "course", None)).root)
    grades = load_final_grades(args.db, args.exam, rubric, args.policy)
    dates = grades.deadlines
    render_notes(console, notices=dates.notices, warnings=grades.warnings, alarms=dates.warnings)
    if args.student is not None:
        student = grades.student(args.student)
        if student is None:
            raise GradebookError(
                f"student {args.student!r} is in neither the gradebook nor the exam CSV"
            )
        render_breakdown(grades, student, console)
        return 0
    write_final_csv(args.out, grades)
    flagged = sum(1 for s in grades.students if s.missing)
    console.print(
        f"wrote {args.out}: {len(grades.students)} students, {flagged} with missing components",
        markup=False,
    )
    return 0
