"""Run a plan against one Python file in fresh worker children, task by task, with retries.

Tasks run in groups, each in children of its own: the public tasks, then the hidden ones. A
child that runs public tasks never holds a hidden task's inputs (they are not preloaded into
the zygote: they travel only in the hidden group's requests), and nothing a hidden-task child
prints reaches the student, so no public message can carry hidden inputs out.

If a child dies or overruns while running a task, that task gets the status (``timeout``,
``crashed: signal 11``, ...) and a new child (forked from the same warm zygote in milliseconds)
runs the remaining tasks, so one hanging function costs only its own task. A child that dies
before it has even started the submission (no ``hello``) failed for a reason of the grader's:
the execution says so in ``grader_failure`` and the engine retries on a fresh zygote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from autograder.errors import GradingInterrupted
from autograder.trusted.probe import Plan
from autograder.trusted.raw import Execution, ProbeRaw
from autograder.trusted.supervisor import Zygote
from autograder.wire import frames as wire


@dataclass
class TaskGroup:
    """Tasks that run in the same children.

    ``inputs`` is preloaded into the zygote once (public inputs only); ``tensors`` travel in
    every request of this group (hidden inputs); ``data`` maps a task to the dataset bundles
    it trains on, preloaded and sent only while such a task is left; ``public`` says whether
    the children's output may be shown to the student.
    """

    tasks: list[str]
    inputs: wire.Bundle | None = None
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    data: dict[str, list[wire.Bundle]] = field(default_factory=dict)
    public: bool = True


def _ending_status(ending: str, detail: str) -> tuple[str, str]:
    if ending == "timeout":
        return "timeout", f"timeout: {detail}"
    if ending == "cpu":
        return "timeout", f"timeout: {detail or 'CPU time limit exceeded'}"
    if ending == "memory":
        return "memory limit exceeded", "memory limit exceeded"
    if ending == "protocol":
        return "crashed", f"crashed: the worker sent malformed results ({detail})"
    return "crashed", f"crashed: {detail}"


def plan_tensors(plan: Plan, tasks: list[str] | set[str]) -> dict[str, torch.Tensor]:
    """The input tensors of every probe of ``tasks``."""
    return {
        k: v for t in tasks for probe in plan.tasks.get(t, []) for k, v in probe.tensors.items()
    }


def plan_inputs(plan: Plan, tasks: list[str] | set[str] | None = None) -> wire.Bundle:
    """The input tensors of ``tasks`` (default: all), as one bundle to preload."""
    return wire.Bundle.of(plan_tensors(plan, plan.tasks if tasks is None else tasks))


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


def _probe_raw(header: dict[str, Any], tensors: dict[str, torch.Tensor]) -> ProbeRaw:
    facts = header.get("facts")
    return ProbeRaw(
        status=str(header.get("status", "error")),
        message=str(header.get("message", ""))[:2000],
        outputs=tensors,
        facts=facts if isinstance(facts, dict) else {},
        violations=[str(v) for v in header.get("violations", [])][:10],
        seconds=float(header.get("seconds", 0.0) or 0.0),
    )


def execute(
    zygote: Zygote,
    path: Path,
    module_name: str,
    plan: Plan,
    *,
    groups: list[TaskGroup],
    forbid: dict[str, list[str]],
    task_seconds: dict[str, float],
    total_seconds: float,
    import_seconds: float | None = None,
    confine: dict[str, Any],
    threads: int = 1,
    frame_limit: Callable[[dict[str, Any]], int | None] | None = None,
    max_result_bytes: int = 1 << 30,
    max_tensors: dict[str, int] | None = None,
    task_cpu_seconds: dict[str, float] | None = None,
) -> Execution:
    """Run every group's tasks on ``path``; never raises for anything the file does.

    ``frame_limit`` and ``max_result_bytes`` cap what a worker may send back (per probe frame
    and per run); ``max_tensors`` caps the tensors of each probe by id. A probe over a cap
    gets the status ``output too large`` and costs only its own check. ``task_cpu_seconds``
    ends a task that used more CPU time than its budget (measured outside the worker).
    """
    result = Execution()
    start = time.monotonic()
    outputs: list[str] = []
    for group in groups:
        left = total_seconds - (time.monotonic() - start)
        _run_group(
            zygote,
            path,
            module_name,
            plan,
            group,
            result,
            outputs,
            forbid=forbid,
            task_seconds=task_seconds,
            total_seconds=left,
            import_seconds=import_seconds,
            confine=confine,
            threads=threads,
            frame_limit=frame_limit,
            max_result_bytes=max_result_bytes,
            max_tensors=max_tensors or {},
            task_cpu_seconds=task_cpu_seconds or {},
        )
        if result.grader_failure:
            break
    result.output = "\n".join(outputs)[-64 * 1024 :]
    result.seconds = time.monotonic() - start
    return result


def _import_violations(raw: Any) -> list[tuple[str, int]]:
    """The import frame's ``violations`` as (name, line) pairs: capped, malformed ones dropped."""
    out: list[tuple[str, int]] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            line = item[1] if isinstance(item[1], int) and item[1] >= 0 else 0
            out.append((item[0][:200], line))
        if len(out) == 50:
            break
    return out


def _run_group(
    zygote: Zygote,
    path: Path,
    module_name: str,
    plan: Plan,
    group: TaskGroup,
    result: Execution,
    outputs: list[str],
    *,
    forbid: dict[str, list[str]],
    task_seconds: dict[str, float],
    total_seconds: float,
    import_seconds: float | None,
    confine: dict[str, Any],
    threads: int,
    frame_limit: Callable[[dict[str, Any]], int | None] | None,
    max_result_bytes: int,
    max_tensors: dict[str, int],
    task_cpu_seconds: dict[str, float],
) -> None:
    remaining = [t for t in group.tasks if plan.tasks.get(t)]
    start = time.monotonic()
    while remaining:
        left = total_seconds - (time.monotonic() - start)
        if left <= 0:
            for task_id in remaining:
                result.task_failures[task_id] = (
                    "timeout",
                    f"timeout: the submission used its {total_seconds:g} s budget",
                )
            return
        request = _request(path, module_name, plan, remaining, forbid, confine, threads)
        bundles = [group.inputs] if group.inputs is not None else []
        for task_id in remaining:
            bundles += [b for b in group.data.get(task_id, []) if b not in bundles]
        run = zygote.run(
            request,
            group.tensors,
            bundles=bundles,
            task_seconds=task_seconds,
            total_seconds=left,
            import_seconds=import_seconds,
            frame_limit=frame_limit,
            max_result_bytes=max_result_bytes,
            task_cpu_seconds=task_cpu_seconds,
        )
        result.settled.append(run.settled)
        result.task_cpu_seconds.update(run.task_cpu_seconds)
        result.task_wall_seconds.update(run.task_wall_seconds)
        if run.ending == "interrupted":
            raise GradingInterrupted("grading was interrupted")
        if run.output_text and group.public:
            outputs.append(run.output_text)
        finished: list[str] = []
        imported = hello = False
        import_error: str | None = None
        for header, frame_tensors in run.frames:
            kind = header.get("type")
            if kind == "hello":
                hello = True
                result.layers = [str(x) for x in header.get("layers", [])][:20]
            elif kind == "import":
                imported = True
                if not header.get("ok"):
                    import_error = str(header.get("error", "import failed"))[:2000]
                for entry in _import_violations(header.get("violations")):
                    if entry not in result.import_violations:
                        result.import_violations.append(entry)
            elif kind == "probe":
                probe_id = str(header.get("id"))
                raw = _probe_raw(header, frame_tensors)
                cap = max_tensors.get(probe_id)
                if cap is not None and len(raw.outputs) > cap:
                    raw = ProbeRaw(
                        "output too large",
                        f"returned {len(raw.outputs)} tensors, more than the {cap} this check "
                        "can use",
                        violations=raw.violations,
                        seconds=raw.seconds,
                    )
                result.probes[probe_id] = raw
            elif kind == "task_end":
                finished.append(str(header.get("task")))
            elif kind == "worker_error":
                # our own failure inside the worker (a sandbox layer that did not apply, a
                # bug): never the student's; the engine retries on a fresh zygote
                result.grader_failure = f"the worker failed: {header.get('error', '')}"[:2000]
                return
        if not hello:
            # the child died before it reached the submission: nothing of the student's ran
            _, message = _ending_status(run.ending, run.detail)
            result.grader_failure = f"the worker did not start ({message})"
            return
        if import_error is not None:
            if group.public or result.import_error is None:
                result.import_error = import_error
            shown = (
                import_error if group.public else "the file failed to import for the hidden tasks"
            )
            for task_id in remaining:
                result.task_failures[task_id] = ("import error", f"import error: {shown}")
            return
        if not imported:
            status, message = _ending_status(run.ending, run.detail)
            fatal = (status, f"{message} while importing the file")
            if group.public or result.fatal is None:
                result.fatal = fatal
            for task_id in remaining:
                result.task_failures[task_id] = fatal
            return
        if run.ending == "done" and len(finished) == len(remaining):
            return
        current = run.current_task
        if current is None:
            # died between tasks: charge the next unfinished one
            unfinished = [t for t in remaining if t not in finished]
            current = unfinished[0] if unfinished else None
        if current is not None:
            result.task_failures[current] = _ending_status(run.ending, run.detail)
        done = set(finished) | ({current} if current else set())
        remaining = [t for t in remaining if t not in done]
