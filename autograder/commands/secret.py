"""``autograder secret init|show``: the course secret that seeds held-out splits and training
orders (see ``autograder/trusted/secret.py``). The secret itself is never printed."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from autograder.trusted.secret import SECRET_ENV, SECRET_FILE_ENV, course_secret, write_new_secret


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "secret", help="create or inspect the course secret (held-out splits, training order)"
    )
    sub = parser.add_subparsers(dest="secret_command", required=True)
    init = sub.add_parser("init", help="write a new random secret (refuses to overwrite one)")
    init.add_argument(
        "--path", type=Path, help="where (default ~/.config/autograder/course-secret)"
    )
    sub.add_parser("show", help="say which secret is in use (its origin and fingerprint)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if args.secret_command == "init":
        path = write_new_secret(args.path)
        console.print(f"wrote a new course secret to {path} (readable by you only)")
        if args.path is not None:
            console.print(f"point the grader at it with {SECRET_FILE_ENV}={path}")
        console.print("keep it out of the repository and out of student kits")
        return 0
    secret = course_secret()
    if secret.public:
        console.print(
            "no course secret is set: held-out splits and training orders use the public "
            f"development value (set {SECRET_ENV} or {SECRET_FILE_ENV}, or run "
            "'autograder secret init')"
        )
    else:
        console.print(f"course secret from {secret.origin}, fingerprint {secret.fingerprint}")
    return 0
