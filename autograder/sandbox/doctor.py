"""``autograder doctor``: which isolation layers are active here, what each one stops, why the
missing ones are missing, and whether a confined worker can reach the grader process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autograder.sandbox.capabilities import Capabilities, probe
from autograder.sandbox.summary import grader_reachable, hidden_tasks_allowed, isolation_summary

if TYPE_CHECKING:
    from rich.console import Console


def doctor(caps: Capabilities | None = None) -> dict[str, Any]:
    """The doctor's findings as plain data (``--json`` prints exactly this)."""
    caps = caps or probe()
    allowed, why = hidden_tasks_allowed(caps, insecure=False)
    return {
        "root": caps.root,
        "layers": [
            {
                "layer": layer.name,
                "active": layer.active,
                "protects": layer.protects,
                "detail": layer.detail,
                "why_not": layer.why_not,
            }
            for layer in caps.layers
        ],
        "summary": isolation_summary(caps),
        "grader_reach": _grader_reach(caps),
        "hidden_tasks": {"allowed": allowed, "reason": why},
    }


# what each trial of ``selftest.REACH`` did to the grader (the doctor's own process)
_TRIED = {
    "prlimit": "prlimit64 on the grader's pid",
    "pidfd": "pidfd_open on the grader's pid",
    "signal": "a signal (0) to the grader",
}


def _grader_reach(caps: Capabilities) -> dict[str, Any]:
    """Whether a process confined like a worker reached this process, way by way."""
    if caps.active("sandbox-uid"):
        worker = "a sandbox uid of its own"
    elif caps.root:
        worker = "uid 0, the grader's own, without capabilities"
    else:
        worker = "the grader's own uid"
    return {
        "worker_uid": worker,
        "tried": {
            way: {
                "what": _TRIED.get(way, way),
                "refused": refused,
            }
            for way, refused in caps.grader_refused.items()
        },
        "reachable": grader_reachable(caps),
    }


def render_doctor(report: dict[str, Any], console: Console) -> None:
    """Print the layer table, the level, the gaps and the hidden-task verdict."""
    from rich.table import Table  # only the CLI needs rich; workers import this package too

    table = Table(
        title="Worker isolation on this machine" + (" (running as root)" if report["root"] else "")
    )
    table.add_column("layer")
    table.add_column("active")
    table.add_column("protects against", overflow="fold", ratio=3)
    table.add_column("detail / why not", overflow="fold", ratio=2)
    for row in report["layers"]:
        mark = "[green]yes[/]" if row["active"] else "[red]no[/]"
        table.add_row(
            row["layer"], mark, row["protects"], row["detail"] if row["active"] else row["why_not"]
        )
    console.print(table)
    summary = report["summary"]
    reach = report["grader_reach"]
    console.print(f"a worker runs as {reach['worker_uid']}; tried from a confined process:")
    for row in reach["tried"].values():
        verdict = "[green]refused[/]" if row["refused"] else "[red]reached the grader[/]"
        console.print(f"  {row['what']}: {verdict}")
    if not reach["tried"]:
        console.print("  nothing: no in-process layer could be applied")
    console.print(f"isolation level: [bold]{summary['level']}[/]")
    for gap in summary["gaps"]:
        console.print(f"  gap: {gap}")
    hidden = report["hidden_tasks"]
    verdict = "allowed" if hidden["allowed"] else "refused (unless --insecure)"
    console.print(f"hidden tasks: {verdict}: {hidden['reason']}")
