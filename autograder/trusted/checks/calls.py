"""Forward and backward checks: every output (or gradient) close to the reference's, per case."""

from __future__ import annotations

from typing import Any

from autograder.trusted.checks.compare import mismatch
from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure


def _compare_all(spec: Any, check: Any, pairs: list[ProbePair], what: str) -> Outcome:
    tol = spec.tolerance_of(check)
    for pair in pairs:
        failure = raw_failure(pair)
        if failure:
            return failure
        expected, actual = pair.reference.outputs, pair.student.outputs
        if check.returns_input and what == "output" and not pair.student.facts.get("returns_input"):
            return Outcome.failed(f"{pair.label}: must modify its argument in place and return it")
        for name in sorted(expected):
            problem = mismatch(
                name, actual.get(name), expected[name], tol, require_finite=check.require_finite
            )
            if problem:
                return Outcome.failed(f"{pair.label}: {_readable(problem)}")
        extra = sorted(set(actual) - set(expected))
        if extra and what == "output":
            return Outcome.failed(
                f"{pair.label}: returned {len(actual)} outputs, expected {len(expected)}"
            )
    return Outcome.passed()


def _readable(problem: str) -> str:
    return (
        problem.replace("grad.arg", "gradient of argument ")
        .replace("grad.state.", "gradient of ")
        .replace("out.", "output ")
        .replace("out:", "output:")
    )


def evaluate_forward(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    return _compare_all(spec, check, pairs, "output")


def evaluate_backward(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    return _compare_all(spec, check, pairs, "gradient")
