"""Comparing returned Python values (``returns = "value"``): structure, types and contents.

The worker sent each side's return value as a typed JSON tree (``wire/values.py``) with the
tensors inside it as ordinary outputs. Here both trees are decoded (which validates them against
the grammar and its caps) and walked together: containers must have the same type and length
(dicts the same keys, in any order), strings, ints, bools and None must be equal, floats close
under the check's tolerance, and tensors close as in every other check (``compare.mismatch``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.spec.models import Tolerance
from autograder.trusted.checks.compare import mismatch
from autograder.wire import values


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a bool"
    if value is None:
        return "None"
    return {
        int: "an int",
        float: "a float",
        str: "a str",
        list: "a list",
        tuple: "a tuple",
        dict: "a dict",
    }.get(type(value), "a Tensor" if isinstance(value, torch.Tensor) else "a value")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _at(path: str) -> str:
    return path or "the result"


def value_mismatch(
    actual: Any, expected: Any, tol: Tolerance, path: str = "", *, require_finite: bool = True
) -> str | None:
    """Why the decoded ``actual`` differs from ``expected``, or None (first difference only)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return f"{_at(path)} is {_kind(actual)}, expected a Tensor"
        return mismatch(path or "output", actual, expected, tol, require_finite=require_finite)
    # a bool is an int to Python, and an int where a float is expected is a different type
    if type(actual) is not type(expected):
        return f"{_at(path)} is {_kind(actual)} {_show(actual)}, expected {_kind(expected)}"
    if isinstance(expected, float):
        if math.isnan(expected) or math.isinf(expected):
            same = math.isnan(actual) if math.isnan(expected) else actual == expected
        else:
            same = math.isfinite(actual) and abs(actual - expected) <= tol.atol + tol.rtol * abs(
                expected
            )
        if same:
            return None
        return f"{_at(path)} is {actual!r}, expected {expected!r}"
    if isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            return (
                f"{_at(path)} has {len(actual)} items, expected {len(expected)}"
                f"{_first_extra(actual, expected)}"
            )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            problem = value_mismatch(a, e, tol, f"{path}[{i}]", require_finite=require_finite)
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        missing = [k for k in expected if k not in actual]
        if missing:
            return f"{_at(path)} has no key {missing[0]!r} ({len(actual)} keys, expected {len(expected)})"
        extra = [k for k in actual if k not in expected]
        if extra:
            return f"{_at(path)} has an unexpected key {extra[0]!r} ({len(actual)} keys, expected {len(expected)})"
        for key, e in expected.items():
            problem = value_mismatch(
                actual[key], e, tol, f"{path}[{key!r}]", require_finite=require_finite
            )
            if problem:
                return problem
        return None
    if actual != expected:
        return f"{_at(path)} is {_show(actual)}, expected {_show(expected)}"
    return None


def _first_extra(actual: list | tuple, expected: list | tuple) -> str:
    """The first item one side has and the other lacks, when the items are plain data."""
    try:
        longer, shorter, what = (
            (actual, expected, "unexpected")
            if len(actual) > len(expected)
            else (expected, actual, "missing")
        )
        rest = [item for item in longer if item not in shorter]
    except Exception:  # noqa: BLE001 - tensors inside: no such hint
        return ""
    return f" ({what}: {_show(rest[0])})" if rest and not isinstance(rest[0], torch.Tensor) else ""


def decoded(raw_facts: dict[str, Any], outputs: dict[str, torch.Tensor]) -> Any:
    """The value a worker returned (``facts["value"]``), validated; ``ValueError`` otherwise."""
    if "value" not in raw_facts:
        raise ValueError("no value was returned")
    return values.decode(raw_facts["value"], outputs)
