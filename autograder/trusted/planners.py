"""Probe builders, one per check kind: a spec check -> the probes that exercise it.

Registered with their kind in ``trusted/kinds.py``. Each takes the plan context (the spec, the
course secret, what the loaded datasets say about themselves) and one check of one task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from autograder.data.registry import datasets
from autograder.spec.models import (
    Arg,
    Assignment,
    BenchmarkCheck,
    CallCheck,
    ModuleStateCheck,
    OptimizerCheck,
    Task,
)
from autograder.trusted.fixtures import FIXTURES
from autograder.trusted.metrics import METRICS
from autograder.trusted.probe import Builder, Probe, derive_seed, describe_case
from autograder.trusted.recipes import recipe
from autograder.trusted.secret import CourseSecret
from autograder.wire.steps import STEPS


class PlanError(ValueError):
    """A check the registries cannot plan; ``field`` is where in the check (``params.hidden``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PlanContext:
    """What building probes may use besides the check itself."""

    spec: Assignment
    secret: CourseSecret
    # dataset name -> its JSON info (normalisation, sizes), for trained-model checks
    data_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    # fixture name -> what the grader built (``trusted/fixtures.FixtureValue``)
    fixtures: dict[str, Any] = field(default_factory=dict)


def _unknown_callable(args: list[Arg]) -> str | None:
    """The first ``fn`` among ``args`` (nested ones too) that ``wire/steps.py`` lacks."""
    for arg in args:
        if arg.fn is not None and arg.fn not in STEPS:
            return arg.fn
        found = _unknown_callable([*(arg.items or []), *arg.params.values()])
        if found:
            return found
    return None


def call_probes(ctx: PlanContext, task: Task, check: CallCheck) -> list[Probe]:
    """One probe per case: forward, backward, gradcheck and distribution checks."""
    spec = ctx.spec
    probes = []
    for index, case in enumerate(spec.cases_of(check)):
        unknown = _unknown_callable(case.args)
        if unknown:
            raise PlanError(
                "cases", f"case {index}: unknown callable {unknown!r} (known: {', '.join(STEPS)})"
            )
        probe_id = f"{task.id}/{check.id}/{index}"
        b = Builder(probe_id, derive_seed(spec.id, task.id, check.id, index), check.dtype)
        header: dict[str, Any] = {
            "kind": check.kind,
            "symbol": check.symbol,
            "call": check.call,
            "args": [b.tensor(f"arg{i}", a) for i, a in enumerate(case.args)],
            "kwargs": {**check.kwargs, **case.kwargs},
            "init": check.init,
            "state": {k: b.tensor(f"state.{k}", a) for k, a in check.state.items()},
            "mode": check.mode,
            "label": case.label or describe_case(case),
            # the worker seeds torch's RNG with this before calling random symbols
            "seed": derive_seed(spec.id, task.id, check.id, index, "rng"),
        }
        if check.returns == "value":
            header["returns"] = "value"
        if check.fill_state:
            header["fill_state"] = True
        if check.observe:
            header["observe"] = list(check.observe)
        if check.apply:
            header["apply"] = [b.tensor(f"apply{i}", a) for i, a in enumerate(check.apply)]
        if check.kind == "gradcheck":
            header["eps"] = check.eps
        if check.kind == "distribution":
            header["sample"] = check.sample
            header["check_backward_mask"] = check.check_backward_mask
            if check.per_last_dim:
                header["per_last_dim"] = True
        probes.append(Probe(probe_id, task.id, check.id, header, b.tensors))
    return probes


def optimizer_probes(ctx: PlanContext, task: Task, check: OptimizerCheck) -> list[Probe]:
    """One probe per optimizer configuration, on the grader's fixed regression problem."""
    spec = ctx.spec
    probes = []
    for index, config in enumerate(check.configs):
        probe_id = f"{task.id}/{check.id}/{index}"
        b = Builder(probe_id, derive_seed(spec.id, task.id, check.id, index), check.dtype)
        # Fixed problem: tanh MLP 6-5-3 regression on 32 points, batches of 8.
        shapes = {"w1": [5, 6], "b1": [5], "w2": [3, 5], "b2": [3], "unused": [4]}
        header = {
            "kind": "optimizer",
            "symbol": check.symbol,
            "kwargs": config.kwargs,
            "groups": [group.model_dump() for group in config.groups],
            "lr_schedule": {str(step): lr for step, lr in config.lr_schedule.items()},
            "label": config.label,
            "steps": check.steps,
            "params": {k: b.tensor(k, Arg(randn=s, scale=0.5)) for k, s in shapes.items()},
            "x": b.tensor("x", Arg(randn=[32, 6])),
            "y": b.tensor("y", Arg(randn=[32, 3])),
            "batch": 8,
        }
        probes.append(Probe(probe_id, task.id, check.id, header, b.tensors))
    return probes


def module_state_probes(ctx: PlanContext, task: Task, check: ModuleStateCheck) -> list[Probe]:
    """One probe: the module built, then stepped through the check's train/eval steps."""
    spec = ctx.spec
    probe_id = f"{task.id}/{check.id}/0"
    b = Builder(probe_id, derive_seed(spec.id, task.id, check.id, 0), check.dtype)
    steps = []
    for i, (case, mode) in enumerate(zip(check.steps, check.modes, strict=True)):
        steps.append(
            {
                "mode": mode,
                "args": [b.tensor(f"step{i}.arg{j}", a) for j, a in enumerate(case.args)],
                "kwargs": case.kwargs,
            }
        )
    header = {
        "kind": "module_state",
        "symbol": check.symbol,
        "init": check.init,
        "expect": check.expect,
        "trainable": check.trainable,
        "compare_init": check.compare_init,
        "steps": steps,
        "seed": derive_seed(spec.id, task.id, check.id, "rng"),
    }
    return [Probe(probe_id, task.id, check.id, header, b.tensors)]


def benchmark_probes(ctx: PlanContext, task: Task, check: BenchmarkCheck) -> list[Probe]:
    """One probe: train with the recipe. Its params arrive validated (defaults filled in); the
    training order comes from the course secret, so no student can precompute it."""
    spec = ctx.spec
    try:
        trained = recipe(check.recipe)
    except KeyError as exc:
        raise PlanError("recipe", str(exc.args[0])) from None
    try:
        params = trained.params.model_validate(check.params).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"params.{where}" if where else "params", first["msg"]) from None
    for index, credit in enumerate(check.credit):
        if credit.metric not in trained.produces:
            raise PlanError(
                f"credit[{index}].metric",
                f"recipe {check.recipe!r} measures {', '.join(trained.produces)}, "
                f"not {credit.metric!r}",
            )
        if credit.metric not in METRICS:
            raise PlanError(f"credit[{index}].metric", f"unknown metric {credit.metric!r}")
    if check.dataset not in datasets():
        known = ", ".join(sorted(datasets()))
        raise PlanError("dataset", f"unknown dataset {check.dataset!r} (known: {known})")
    tensors: dict[str, Any] = {}
    fixture_info: dict[str, Any] = {}
    for index, name in enumerate(check.fixtures):
        if name not in FIXTURES:
            known = ", ".join(sorted(FIXTURES))
            raise PlanError(f"fixtures[{index}]", f"unknown fixture {name!r} (known: {known})")
        built = ctx.fixtures.get(name)
        if built is None:
            raise PlanError(f"fixtures[{index}]", f"the fixture {name!r} was not built")
        # probe inputs like any other: the reference cache's plan digest covers them
        tensors.update({f"fixture|{name}|{k}": v for k, v in built.tensors.items()})
        fixture_info[name] = built.info
    probe_id = f"{task.id}/{check.id}/0"
    header = {
        "kind": "benchmark",
        "recipe": check.recipe,
        "dataset": check.dataset,
        "components": dict(check.components),
        "params": params,
        "threads": check.threads,
        "budget_seconds": check.budget_seconds,
        "data_info": ctx.data_info.get(check.dataset, {}),
        "seed": derive_seed(spec.id, task.id, check.id, check.seed),
        "order_seed": ctx.secret.seed(spec.id, task.id, check.id, check.seed, "order"),
    }
    if fixture_info:
        header["fixtures"] = fixture_info
    return [Probe(probe_id, task.id, check.id, header, tensors)]
