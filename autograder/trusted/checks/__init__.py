"""Trusted comparison: one module per check kind, each turning raw claims into an Outcome.

An outcome is not points: it is a fraction in [0, 1], a status, a message the student may read
(for public tasks) and staff detail. ``scoring.py`` turns fractions into points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from autograder.trusted.execute import ProbeRaw
from autograder.trusted.plan import Probe


@dataclass
class Outcome:
    fraction: Fraction
    status: str
    message: str = ""
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str = "", **metrics: Any) -> Outcome:
        return cls(Fraction(1), "passed", message, metrics=metrics)

    @classmethod
    def failed(cls, message: str, status: str = "failed", detail: str = "") -> Outcome:
        return cls(Fraction(0), status, message, detail)


@dataclass
class ProbePair:
    """A probe with what the student's worker and the reference's worker returned for it."""

    probe: Probe
    student: ProbeRaw
    reference: ProbeRaw
    # Facts only the trusted side holds (the benchmark's test labels).
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.probe.header.get("label") or f"case {self.probe.id.rsplit('/', 1)[-1]}")


def raw_failure(pair: ProbePair) -> Outcome | None:
    """The outcome when either side did not produce outputs, else None."""
    if pair.reference.status != "ok":
        return Outcome.failed(
            "the grader could not compute the expected result for this check; staff have been told",
            status="grader error",
            detail=f"reference failed on {pair.probe.id}: {pair.reference.status}: {pair.reference.message}",
        )
    if pair.student.status != "ok":
        return Outcome.failed(f"{pair.label}: {pair.student.message}", status=pair.student.status)
    return None


Evaluator = Callable[[Any, Any, list[ProbePair]], Outcome]


def evaluator(kind: str) -> Evaluator:
    """The trusted evaluator for a check kind (spec ``kind`` field)."""
    from autograder.trusted.checks import (
        benchmark,
        calls,
        distribution,
        gradcheck,
        module_state,
        optimizer,
    )

    table: dict[str, Evaluator] = {
        "forward": calls.evaluate_forward,
        "backward": calls.evaluate_backward,
        "gradcheck": gradcheck.evaluate,
        "distribution": distribution.evaluate,
        "optimizer": optimizer.evaluate,
        "module_state": module_state.evaluate,
        "benchmark": benchmark.evaluate,
    }
    return table[kind]
