"""Spec -> plan: every check's probes, built by its registered kind, in spec order.

The plan is built on the trusted side before any worker runs. A check the registries cannot
plan (an unknown recipe, params its recipe refuses, a metric it does not measure) or that would
yield no probes is a spec error naming the file, the task and check ids and the field: a check
with nothing to compare can never pass by omission.
"""

from __future__ import annotations

from typing import Any

from autograder.errors import SpecError
from autograder.spec.models import Assignment
from autograder.trusted.kinds import kind
from autograder.trusted.planners import PlanContext, PlanError
from autograder.trusted.probe import Plan, Probe
from autograder.trusted.secret import CourseSecret, course_secret


def build_plan(
    spec: Assignment,
    *,
    include: set[str] | None = None,
    secret: CourseSecret | None = None,
    data_info: dict[str, dict[str, Any]] | None = None,
    source: str = "spec",
    fixtures: dict[str, Any] | None = None,
) -> Plan:
    """Probes for every task (or only the task ids in ``include``), in spec order.

    ``source`` names the spec in errors; ``data_info`` is what each loaded dataset says about
    itself (trained-model checks need theirs); ``fixtures`` what the grader built for the
    checks that name them (``trusted/fixtures``).
    """
    ctx = PlanContext(spec, secret or course_secret(), data_info or {}, fixtures or {})
    tasks: dict[str, list[Probe]] = {}
    for ti, task in enumerate(spec.tasks):
        if include is not None and task.id not in include:
            continue
        probes: list[Probe] = []
        for ci, check in enumerate(task.checks):
            where = f"{source}: tasks[{ti}] (id {task.id!r}).checks[{ci}] (id {check.id!r})"
            try:
                made = kind(check.kind).plan(ctx, task, check)
            except PlanError as exc:
                raise SpecError(f"{where}.{exc.field}: {exc.message}") from None
            if not made:
                raise SpecError(f"{where}: the check has no probes (no cases to run)")
            probes += made
        tasks[task.id] = probes
    return Plan(spec.id, tasks)
