"""Trusted comparisons: ``compare.mismatch`` messages and ``scoring`` arithmetic, on plain data."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.spec.models import Task, Tolerance
from autograder.trusted import scoring
from autograder.trusted.checks import Outcome
from autograder.trusted.checks.compare import mismatch
from autograder.trusted.forbidden import Finding

REPO = Path(__file__).resolve().parents[1]
TOL = Tolerance(rtol=1e-3, atol=1e-5)
EXACT = Tolerance(rtol=0.0, atol=0.0)


def test_equal_and_within_tolerance_is_none() -> None:
    e = torch.tensor([[1.0, -2.0], [0.0, 1000.0]])
    assert mismatch("out", e.clone(), e, EXACT) is None
    # the bound |a - e| <= atol + rtol * |e| is inclusive (computed in float64)
    a = e.double() + torch.tensor(
        [[1e-5 + 1e-3, 1e-5 + 2e-3], [1e-5, 1e-5 + 1.0]], dtype=torch.float64
    )
    assert mismatch("out", a.float(), e, TOL, check_dtype=False) is None
    assert mismatch("out", torch.tensor([-0.0]), torch.tensor([0.0]), EXACT) is None
    assert mismatch("out", torch.zeros(0, 3), torch.zeros(0, 3), EXACT) is None


def test_beyond_tolerance_names_count_errors_and_first_index() -> None:
    e = torch.zeros(2, 3, dtype=torch.float64)
    a = e.clone()
    a[0, 2] = 0.5
    a[1, 1] = -2.0
    message = mismatch("out", a, e + 0.0, TOL)
    assert message.startswith("out: 2 of 6 values differ; max abs error 2, max rel error ")
    assert message.endswith("; first at index (0, 2): got 0.5, expected 0")
    e2 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    a2 = torch.tensor([[1.0, 2.0], [3.0, 4.5]])
    assert mismatch("grad", a2, e2, TOL) == (
        "grad: 1 of 4 values differ; max abs error 0.5, max rel error 0.125; first at index (1, 1): got 4.5, expected 4"
    )


def test_missing_shape_and_dtype_messages() -> None:
    e = torch.zeros(4, 5)
    assert mismatch("out", None, e, TOL) == "out: missing"
    assert mismatch("out", torch.zeros(4, 3), e, TOL) == "out: wrong shape (4, 3) != (4, 5)"
    assert mismatch("out", torch.zeros(()), e, TOL) == "out: wrong shape () != (4, 5)"
    assert mismatch("out", torch.zeros(4, 5, dtype=torch.float64), e, TOL) == (
        "out: wrong dtype float64, expected float32"
    )
    assert (
        mismatch("out", torch.zeros(4, 5, dtype=torch.float64), e, TOL, check_dtype=False) is None
    )


def test_non_finite_values_where_finite_ones_are_expected() -> None:
    e = torch.tensor([[1.0, 0.5], [0.25, 2.0]])
    a = e.clone()
    a[1, 0] = float("nan")
    assert (
        mismatch("out", a, e, TOL) == "out: non-finite values (NaN) at index (1, 0), expected 0.25"
    )
    a = e.clone()
    a[0, 1] = float("-inf")
    assert (
        mismatch("out", a, e, TOL) == "out: non-finite values (inf) at index (0, 1), expected 0.5"
    )
    # without require_finite a NaN still differs, reported as a plain mismatch
    a = e.clone()
    a[1, 0] = float("nan")
    relaxed = mismatch("out", a, e, TOL, require_finite=False)
    assert relaxed.startswith("out: 1 of 4 values differ") and "index (1, 0)" in relaxed


def test_expected_non_finite_values_must_be_matched_exactly() -> None:
    e = torch.tensor([float("inf"), float("-inf"), float("nan"), 1.0])
    assert mismatch("out", e.clone(), e, TOL) is None
    flipped = torch.tensor([float("-inf"), float("-inf"), float("nan"), 1.0])
    assert "first at index (0,): got -inf, expected inf" in mismatch("out", flipped, e, TOL)
    finite = torch.tensor([float("inf"), float("-inf"), 0.0, 1.0])
    assert "first at index (2,): got 0, expected nan" in mismatch("out", finite, e, TOL)


def test_integer_and_bool_tensors_compare_exactly() -> None:
    e = torch.tensor([0, 2, 1])
    assert mismatch("pred", e.clone(), e, TOL) is None
    assert mismatch("pred", torch.tensor([0, 3, 1]), e, TOL) == (
        "pred: differs at index (1,): got 3, expected 2"
    )
    assert mismatch("pred", torch.tensor([0.0, 2.0, 1.0]), e, TOL, check_dtype=False) == (
        "pred: wrong dtype torch.float32, expected torch.int64"
    )
    mask = torch.tensor([[True, False]])
    assert mismatch("mask", mask.clone(), mask, EXACT) is None
    assert (
        mismatch("mask", ~mask, mask, EXACT)
        == "mask: differs at index (0, 0): got False, expected True"
    )


def test_zero_dimensional_values_have_an_empty_index() -> None:
    message = mismatch("loss", torch.tensor(2.0), torch.tensor(1.0), TOL)
    assert message.endswith("first at index (): got 2, expected 1")


def test_check_points_of_every_hw1_task_sum_exactly() -> None:
    spec = load_assignment("hw1", Course(REPO)).spec
    total = Fraction(0)
    for task in spec.tasks:
        shares = scoring.check_points(task)
        assert len(shares) == len(task.checks)
        assert sum(shares, Fraction(0)) == task.points
        total += sum(shares, Fraction(0))
    assert total == spec.points == 15
    regularization = scoring.check_points(spec.task("regularization"))
    assert regularization == [Fraction(3, 14)] * 7  # 1.5 points over 7 checks: exact, no 0.2142...


def _task(points: object, weights: list[float], visibility: str = "public") -> Task:
    checks = [
        {"id": f"c{i}", "kind": "forward", "symbol": "f", "cases": "set", "weight": w}
        for i, w in enumerate(weights)
    ]
    return Task.model_validate(
        {
            "id": "t",
            "title": "T",
            "points": points,
            "visibility": visibility,
            "symbols": [{"name": "f", "signature": "(x)"}],
            "checks": checks,
        }
    )


def test_weights_split_points_exactly() -> None:
    shares = scoring.check_points(_task("2.5", [1, 2, 3]))
    assert shares == [Fraction(5, 12), Fraction(5, 6), Fraction(5, 4)]
    assert sum(shares) == Fraction(5, 2)
    assert scoring.check_points(_task("1/3", [0.1, 0.2])) == [Fraction(1, 9), Fraction(2, 9)]


def test_task_result_scores_statuses_and_whole_task_outcomes() -> None:
    task = _task(1, [1, 1, 1])
    ok, bad = Outcome.passed(), Outcome.failed("input x: wrong shape (1,) != (2,)")
    result = scoring.task_result(task, [ok, bad, ok])
    assert (result.status, result.score_exact, result.max_score_exact) == ("partial", "2/3", "1")
    assert result.message == "2 of 3 checks passed. c1: input x: wrong shape (1,) != (2,)"
    assert scoring.task_result(task, [ok] * 3).message == "all 3 checks passed"
    assert scoring.task_result(task, [bad] * 3).status == "failed"
    # a forbidden call costs the checks it is charged to, and those only
    softmax = [Finding("torch.softmax", 7, "f")]
    forbidden = scoring.task_result(
        task, [ok] * 3, forbidden={"c0": softmax, "c1": softmax, "c2": softmax}
    )
    assert (forbidden.status, forbidden.score_exact) == ("forbidden API", "0")
    assert forbidden.message == "uses torch.softmax (line 7), which this task forbids"
    one = scoring.task_result(task, [ok] * 3, forbidden={"c1": softmax})
    assert (one.status, one.score_exact) == ("partial", "2/3")
    assert [c.status for c in one.checks] == ["passed", "forbidden API", "passed"]
    assert (
        one.message
        == "2 of 3 checks passed. c1: uses torch.softmax (line 7), which this task forbids"
    )
    runtime = scoring.task_result(
        task, [ok] * 3, forbidden={"c2": [Finding("torch.sigmoid", 0, "c2", "runtime")]}
    )
    assert (
        runtime.checks[2].message == "called torch.sigmoid while running, which this task forbids"
    )
    crashed = scoring.task_result(
        task, [ok] * 3, failure=("crashed", "crashed: signal 11 (SIGSEGV)")
    )
    assert (crashed.status, crashed.message, crashed.score) == (
        "crashed",
        "crashed: signal 11 (SIGSEGV)",
        0,
    )
    assert all(c.status == "crashed" for c in crashed.checks)
    skipped = scoring.task_result(task, [ok] * 3, skipped="skipped (--skip-benchmarks)")
    assert (skipped.status, skipped.score) == ("skipped", 0)


def test_hidden_tasks_show_status_and_score_but_no_details() -> None:
    task = _task(1, [1, 1], visibility="hidden")
    result = scoring.task_result(
        task, [Outcome.passed(), Outcome.failed("input randn(3,): got 2", detail="x")]
    )
    assert result.status == "partial" and result.score_exact == "1/2"
    assert "randn" not in result.message and "hidden task" in result.message
    assert all(c.message == "" and c.detail == "" for c in result.checks)


@pytest.mark.parametrize("points", ["1.5", 1.5, "3/2", Fraction(3, 2)])
def test_points_are_exact_whatever_their_spelling(points: object) -> None:
    assert _task(points, [1]).points == Fraction(3, 2)
