"""The check-kind registry: each kind declares, in one place, its spec model, its probe
builder, the worker runner that executes its probes and the trusted evaluator that judges them.

``tests/test_registries.py`` holds the spec's union of check models, this table, the worker's
runners (``untrusted/runners.py``) and the training recipes of both sides equal, so a kind
cannot be half registered. An unknown kind is an error, never zero probes that pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.errors import AutograderError
from autograder.spec import models
from autograder.trusted import planners
from autograder.trusted.checks import (
    benchmark,
    calls,
    distribution,
    gradcheck,
    module_state,
    optimizer,
)
from autograder.trusted.checks.outcome import Outcome, ProbePair
from autograder.trusted.probe import Probe

Planner = Callable[[planners.PlanContext, models.Task, Any], list[Probe]]
Evaluator = Callable[[models.Assignment, Any, list[ProbePair]], Outcome]


@dataclass(frozen=True)
class CheckKind:
    """Everything the engine needs to know about one spec ``kind``."""

    name: str
    model: type
    plan: Planner
    runner: str  # the key of its runner in ``untrusted.runners.RUNNERS``
    evaluate: Evaluator
    # trains a model on a registered dataset (needs data, a CPU budget, runs on the server)
    trained: bool = False


_KINDS = (
    CheckKind(
        "forward", models.ForwardCheck, planners.call_probes, "forward", calls.evaluate_forward
    ),
    CheckKind(
        "backward", models.BackwardCheck, planners.call_probes, "backward", calls.evaluate_backward
    ),
    CheckKind(
        "gradcheck", models.GradcheckCheck, planners.call_probes, "gradcheck", gradcheck.evaluate
    ),
    CheckKind(
        "distribution",
        models.DistributionCheck,
        planners.call_probes,
        "distribution",
        distribution.evaluate,
    ),
    CheckKind(
        "optimizer",
        models.OptimizerCheck,
        planners.optimizer_probes,
        "optimizer",
        optimizer.evaluate,
    ),
    CheckKind(
        "module_state",
        models.ModuleStateCheck,
        planners.module_state_probes,
        "module_state",
        module_state.evaluate,
    ),
    CheckKind(
        "benchmark",
        models.BenchmarkCheck,
        planners.benchmark_probes,
        "benchmark",
        benchmark.evaluate,
        trained=True,
    ),
)

KINDS: dict[str, CheckKind] = {k.name: k for k in _KINDS}


def kind(name: str) -> CheckKind:
    """The registered kind ``name``; an ``AutograderError`` (a grader bug) otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise AutograderError(
            f"check kind {name!r} is not registered (known: {', '.join(sorted(KINDS))})"
        ) from None
