"""The ``autograder`` command: a thin argparse layer over the library.

Each command lives in ``autograder/commands/<name>.py``. Errors the grader reports about its own
inputs (``AutograderError``) print as ``error: ...`` and exit with 2; nothing prints a traceback
for them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from autograder.errors import AutograderError
from autograder.version import __version__

COMMANDS = [
    "check",
    "describe",
    "batch",
    "export",
    "report",
    "adjust",
    "final",
    "data",
    "doctor",
    "kit",
    "submit",
    "secret",
]

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's module is imported (fast start)."""
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Grade PyTorch homework against reference solutions, never trusting student code.",
    )
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else COMMANDS:
        try:
            module = importlib.import_module(f"autograder.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"autograder.commands.{name}":
                continue  # a command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        print(f"autograder {__version__}")
        return EXIT_OK
    # Import only the chosen command: `final` or `export` should not pay for `import torch`.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except AutograderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """Console-script entry: main(), then exit without the interpreter's teardown of torch.

    Everything is printed and flushed first; tearing torch down costs 0.6-0.8 s for nothing.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
