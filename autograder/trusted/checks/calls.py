"""Forward and backward checks: every output (or gradient) close to the reference's, per case."""

from __future__ import annotations

from typing import Any

from autograder.trusted.checks.compare import mismatch
from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure
from autograder.trusted.checks.values import decoded, value_mismatch


def _compare_all(spec: Any, check: Any, pairs: list[ProbePair], what: str) -> Outcome:
    tol = spec.tolerance_of(check)
    for pair in pairs:
        failure = raw_failure(pair)
        if failure:
            return failure
        if what == "output" and check.returns == "value":
            problem = _value_problem(pair, tol, check.require_finite)
            if problem:
                return problem
            continue
        expected, actual = pair.reference.outputs, pair.student.outputs
        if what == "gradient" and detached(pair):
            return Outcome.failed(f"{pair.label}: {DETACHED}")
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


def _value_problem(pair: ProbePair, tol: Any, require_finite: bool) -> Outcome | None:
    """Compare a returned Python value (``returns = "value"``) with the reference's."""
    try:
        expected = decoded(pair.reference.facts, pair.reference.outputs)
    except ValueError as exc:
        return Outcome.failed(
            "the grader could not read the expected result for this check; staff have been told",
            status="grader error",
            detail=f"reference value of {pair.probe.id}: {exc}",
        )
    try:
        actual = decoded(pair.student.facts, pair.student.outputs)
    except ValueError as exc:
        return Outcome.failed(f"{pair.label}: returned a value the grader cannot read ({exc})")
    problem = value_mismatch(actual, expected, tol, require_finite=require_finite)
    return Outcome.failed(f"{pair.label}: {problem}") if problem else None


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


DETACHED = (
    "the output is not attached to the autograd graph (requires_grad is False), so backward() "
    "on it fails; it must stay connected to the inputs even where its gradient is 0"
)


def detached(pair: ProbePair) -> bool:
    """Whether the student's output has no autograd graph where the reference's has one: a
    fresh tensor (``torch.tensor(0.0)``) whose gradients would all be 0 anyway compares equal
    gradient for gradient, yet breaks the ``loss.backward()`` of whoever trains with it."""
    return bool(pair.reference.facts.get("requires_grad")) and not pair.student.facts.get(
        "requires_grad", True
    )
