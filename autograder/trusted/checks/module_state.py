"""Module state: interface names and shapes, then outputs and named tensors after each train/eval step."""

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
        info = pair.student.facts.get("state", {})
        for name, shape in check.expect.items():
            entry = info.get(name, {}) if isinstance(info, dict) else {}
            kind = entry.get("kind", "missing")
            if kind == "missing":
                return Outcome.failed(f"{check.symbol} has no attribute {name!r}")
            if name in check.trainable and kind != "parameter":
                return Outcome.failed(
                    f"{check.symbol}.{name} must be an nn.Parameter (it is a {kind})"
                )
            if entry.get("shape") != list(shape):
                return Outcome.failed(
                    f"{check.symbol}.{name} has shape {tuple(entry.get('shape') or ())}, expected {tuple(shape)}"
                )
        expected, actual = pair.reference.outputs, pair.student.outputs
        steps = pair.probe.header.get("steps", [])
        for key in sorted(expected, key=_order):
            problem = mismatch(key.split(".", 1)[-1], actual.get(key), expected[key], tol)
            if problem:
                return Outcome.failed(f"{_where(key, steps)}: {problem}")
    return Outcome.passed()


def _order(key: str) -> tuple[int, str]:
    head = key.split(".", 1)[0]
    return (-1 if head == "init" else int(head[4:]), key)


def _where(key: str, steps: list[dict]) -> str:
    head = key.split(".", 1)[0]
    if head == "init":
        return "right after construction"
    i = int(head[4:])
    mode = steps[i]["mode"] if i < len(steps) else "?"
    return f"after step {i + 1} ({mode} mode)"
