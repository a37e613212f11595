"""Optimizer trajectories: every parameter after every step vs the reference optimizer's."""

from __future__ import annotations

from typing import Any

from autograder.trusted.checks.compare import mismatch
from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure


def evaluate(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    tol = spec.tolerance_of(check)
    for pair in pairs:
        failure = raw_failure(pair)
        if failure:
            return failure
        expected = pair.reference.outputs["trajectory"]
        actual = pair.student.outputs.get("trajectory")
        config = pair.probe.header.get("label") or str(pair.probe.header.get("kwargs"))
        if actual is None or actual.shape != expected.shape:
            return Outcome.failed(f"{config}: no parameter trajectory was recorded")
        if mismatch("parameters", actual, expected, tol, check_dtype=False) is None:
            continue  # the whole trajectory at once; step by step only to say where it left
        for step in range(expected.shape[0]):
            problem = mismatch("parameters", actual[step], expected[step], tol, check_dtype=False)
            if problem:
                return Outcome.failed(f"{config}: after step {step + 1}: {problem}")
    return Outcome.passed()
