"""Run a plan against one Python file in a fresh worker child, task by task, with retries.

If the child dies or overruns while running a task, that task gets the status (``timeout``,
``crashed: signal 11``, ...) and a new child (forked from the same warm zygote in milliseconds)
runs the remaining tasks, so one hanging function costs only its own task.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autograder.errors import GradingInterrupted
from autograder.trusted.plan import Plan
from autograder.trusted.raw import Execution, ProbeRaw
from autograder.trusted.supervisor import Zygote
from autograder.wire import frames as wire


def _ending_status(ending: str, detail: str) -> tuple[str, str]:
    if ending == "timeout":
        return "timeout", f"timeout: {detail}"
    if ending == "cpu":
        return "timeout", "timeout: CPU time limit exceeded"
    if ending == "memory":
        return "memory limit exceeded", "memory limit exceeded"
    if ending == "protocol":
        return "crashed", f"crashed: the worker sent malformed results ({detail})"
    return "crashed", f"crashed: {detail}"


def plan_inputs(plan: Plan) -> wire.Bundle:
    """Every probe's input tensors, as the bundle ``execute`` sends to the worker."""
    return wire.Bundle.of({k: v for probe in plan.probes() for k, v in probe.tensors.items()})


def _request(
    path: Path,
    module_name: str,
    plan: Plan,
    tasks: list[str],
    forbid: dict[str, list[str]],
    confine: dict[str, Any],
    threads: int,
) -> dict[str, Any]:
    entries = []
    for task_id in tasks:
        probes = [{**probe.header, "id": probe.id} for probe in plan.tasks[task_id]]
        entries.append({"id": task_id, "forbid": forbid.get(task_id, []), "probes": probes})
    return {
        "path": str(path),
        "module_name": module_name,
        "threads": threads,
        "confine": confine,
        "tasks": entries,
    }


def execute(
    zygote: Zygote,
    path: Path,
    module_name: str,
    plan: Plan,
    *,
    forbid: dict[str, list[str]],
    task_seconds: dict[str, float],
    total_seconds: float,
    import_seconds: float | None = None,
    confine: dict[str, Any],
    inputs: wire.Bundle | None = None,
    data: wire.Bundle | None = None,
    data_tasks: set[str] = frozenset(),
    threads: int = 1,
) -> Execution:
    """Run every task of ``plan`` on ``path``; never raises for anything the file does.

    ``inputs`` is ``plan_inputs(plan)`` (made here when not given); ``data`` the benchmark's
    images, sent only while a task of ``data_tasks`` is left to run.
    """
    inputs = inputs or plan_inputs(plan)
    result = Execution()
    remaining = [t for t in plan.tasks if plan.tasks[t]]
    start = time.monotonic()
    outputs: list[str] = []
    while remaining:
        left = total_seconds - (time.monotonic() - start)
        if left <= 0:
            for task_id in remaining:
                result.task_failures[task_id] = (
                    "timeout",
                    f"timeout: the submission used its {total_seconds:g} s budget",
                )
            break
        request = _request(path, module_name, plan, remaining, forbid, confine, threads)
        bundles = [inputs]
        if data and data_tasks.intersection(remaining):
            bundles.append(data)
        run = zygote.run(
            request,
            {},
            bundles=bundles,
            task_seconds=task_seconds,
            total_seconds=left,
            import_seconds=import_seconds,
        )
        result.settled.append(run.settled)
        if run.ending == "interrupted":
            raise GradingInterrupted("grading was interrupted")
        if run.output_text:
            outputs.append(run.output_text)
        finished: list[str] = []
        imported = False
        task_start: dict[str, float] = {}
        for header, frame_tensors in run.frames:
            kind = header.get("type")
            if kind == "hello":
                result.layers = [str(x) for x in header.get("layers", [])][:20]
            elif kind == "import":
                imported = True
                if not header.get("ok"):
                    result.import_error = str(header.get("error", "import failed"))[:2000]
            elif kind == "task_start":
                task_start[str(header.get("task"))] = time.monotonic()
            elif kind == "probe":
                probe_id = str(header.get("id"))
                result.probes[probe_id] = ProbeRaw(
                    status=str(header.get("status", "error")),
                    message=str(header.get("message", ""))[:2000],
                    outputs=frame_tensors,
                    facts=header.get("facts") if isinstance(header.get("facts"), dict) else {},
                    violations=[str(v) for v in header.get("violations", [])][:10],
                    seconds=float(header.get("seconds", 0.0) or 0.0),
                )
            elif kind == "task_end":
                finished.append(str(header.get("task")))
            elif kind == "worker_error":
                status, message = (
                    "grader error",
                    f"grader error in the worker: {header.get('error', '')}",
                )
                for task_id in remaining:
                    if task_id not in finished:
                        result.task_failures[task_id] = (status, message[:2000])
                remaining = []
                break
        if not remaining:
            break
        if result.import_error is not None:
            for task_id in remaining:
                result.task_failures[task_id] = (
                    "import error",
                    f"import error: {result.import_error}",
                )
            break
        if not imported:
            status, message = _ending_status(run.ending, run.detail)
            result.fatal = (status, f"{message} while importing the file")
            for task_id in remaining:
                result.task_failures[task_id] = result.fatal
            break
        if run.ending == "done" and len(finished) == len(remaining):
            break
        current = run.current_task
        if current is None:
            # died between tasks: charge the next unfinished one
            unfinished = [t for t in remaining if t not in finished]
            current = unfinished[0] if unfinished else None
        if current is not None:
            result.task_failures[current] = _ending_status(run.ending, run.detail)
        done = set(finished) | ({current} if current else set())
        remaining = [t for t in remaining if t not in done]
    result.output = "\n".join(outputs)[-64 * 1024 :]
    result.seconds = time.monotonic() - start
    return result
