"""Forward and backward checks: every output (or gradient) close to the reference's, per case."""

from __future__ import annotations

import re
from typing import Any

import torch

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
        keys_problem = _state_keys_problem(check, pair)
        if keys_problem:
            return Outcome.failed(f"{pair.label}: {keys_problem}")
        expected, actual = pair.reference.outputs, pair.student.outputs
        if check.returns_input and what == "output" and not pair.student.facts.get("returns_input"):
            return Outcome.failed(f"{pair.label}: must modify its argument in place and return it")
        compared = _compared(check, expected)
        if not compared:
            # ``outputs`` names none of the reference's: comparing nothing must never pass
            return Outcome.failed(
                "the grader has nothing to compare for this check; staff have been told",
                status="grader error",
                detail=f"outputs {check.outputs} are not among the reference's {sorted(expected)}",
            )
        for name in compared:
            problem = (
                _increase(name, actual.get(name), tol) if check.non_increasing else None
            ) or mismatch(
                name, actual.get(name), expected[name], tol, require_finite=check.require_finite
            )
            if problem:
                return Outcome.failed(f"{pair.label}: {_readable(problem)}")
        # gradients that all match may still come from no graph (all zero where nothing is
        # learned): the caller's backward() would fail
        if what == "gradient" and detached(pair):
            return Outcome.failed(f"{pair.label}: {DETACHED}")
        extra = sorted(set(actual) - set(expected))
        if extra and what == "output" and not any(n.startswith("out") for n in expected):
            return Outcome.failed(
                f"{pair.label}: returned a value, expected None (it works in place)"
            )
        if extra and what == "output":
            return Outcome.failed(
                f"{pair.label}: returned {len(actual)} outputs, expected {len(expected)}"
            )
    return Outcome.passed()


def _compared(check: Any, expected: dict[str, Any]) -> list[str]:
    """The expected outputs a check compares: all, or those at the positions in ``outputs``
    (a lone tensor is position 0)."""
    names = sorted(expected)
    wanted = getattr(check, "outputs", None)
    if not wanted:
        return names
    keep = {f"out.{i}" for i in wanted} | ({"out"} if 0 in wanted else set())
    return [n for n in names if n in keep]


def _increase(name: str, actual: Any, tol: Any) -> str | None:
    """Where ``actual`` increases along its last dimension by more than the tolerance, or None
    (also when it is not a floating tensor: the comparison reports that)."""
    if not isinstance(actual, torch.Tensor) or not actual.is_floating_point() or actual.dim() < 1:
        return None
    a = actual.detach().to(torch.float64).reshape(-1, actual.shape[-1])
    before, after = a[:, :-1], a[:, 1:]
    rises = after - before > tol.atol + tol.rtol * before.abs()
    if not bool(rises.any()):
        return None
    row, i = (int(v) for v in rises.nonzero()[0])
    where = f"index {i + 1}" if a.shape[0] == 1 else f"row {row}, index {i + 1}"
    return (
        f"{name}: increases at {where}, from {before[row, i].item():.6g} to "
        f"{after[row, i].item():.6g}; it must never increase"
    )


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


def _keys(raw: Any) -> dict[str, tuple[int, ...]] | None:
    """``[[key, shape], ...]`` from a worker's facts, validated and capped; None if malformed."""
    if not isinstance(raw, list) or len(raw) > 2000:
        return None
    out: dict[str, tuple[int, ...]] = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            return None
        key, shape = item
        if len(key) > 300 or not isinstance(shape, list) or len(shape) > 8:
            return None
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            return None
        out[key] = tuple(shape)
    return out


def _state_keys_problem(check: Any, pair: ProbePair) -> str | None:
    """With ``fill_state``: the student's module must have the reference's state_dict keys and
    shapes (the template's contract), or the values it was given are not the reference's."""
    if not getattr(check, "fill_state", False):
        return None
    want = _keys(pair.reference.facts.get("state_keys"))
    have = _keys(pair.student.facts.get("state_keys"))
    if want is None:
        return None  # nothing to hold it against (the outputs are still compared)
    if have is None:
        return f"{check.symbol}'s state_dict keys did not arrive"
    missing = [k for k in want if k not in have]
    extra = [k for k in have if k not in want]
    if missing or extra:
        found = [f"no {missing[0]!r}"] if missing else []
        found += [f"an unexpected {extra[0]!r}"] if extra else []
        return (
            f"{check.symbol}'s state_dict does not have the keys the template lists: "
            f"{' and '.join(found)} ({len(have)} keys, expected {len(want)})"
        )
    for key, shape in want.items():
        if have[key] != shape:
            return f"{check.symbol}'s {key} has shape {have[key]}, expected {shape}"
    return None


_AFTER_TENSOR = re.compile(r"after\.arg(\d+)\.([^:\s]+)")
_AFTER = re.compile(r"after\.arg(\d+)")


def _readable(problem: str) -> str:
    problem = _AFTER.sub(
        r"argument \1 after the call",
        _AFTER_TENSOR.sub(r"argument \1's \2 after the call", problem),
    )
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
