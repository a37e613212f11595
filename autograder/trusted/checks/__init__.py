"""Trusted comparison: one module per check kind, each turning raw claims into an Outcome.

An outcome is not points: it is a fraction in [0, 1], a status, a message the student may read
(for public tasks) and staff detail. ``scoring.py`` turns fractions into points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure

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


__all__ = ["Evaluator", "Outcome", "ProbePair", "evaluator", "raw_failure"]
