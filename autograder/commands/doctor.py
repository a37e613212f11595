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
    report["batch"] = _batch_resources()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        console = console or Console()
        sandbox.render_doctor(report, console)
        batch = report["batch"]
        memory = batch["available_memory_gb"]
        console.print(
            f"batch workers by default: [bold]{batch['default_workers']}[/] "
            f"({batch['usable_cores']} usable cores, "
            + (f"{memory:.1f} GB memory available" if memory is not None else "memory unknown")
            + (f"; {batch['why']}" if batch["why"] else "")
            + ")",
            highlight=False,
        )
    return 0


def _batch_resources() -> dict:
    """What ``autograder batch`` would take here without ``--workers``."""
    from autograder.batch import machine
    from autograder.batch import run as batch

    workers, why = batch.default_workers()
    memory = machine.available_memory()
    return {
        "default_workers": workers,
        "usable_cores": machine.usable_cores(),
        "cpu_quota": machine.cpu_quota(),
        "available_memory_gb": None if memory is None else round(memory / 2**30, 1),
        "why": why,
    }
