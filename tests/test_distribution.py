"""The KS test computed from a pre-sorted reference agrees with scipy's ks_2samp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from autograder.trusted.checks.distribution import (
    _Sample,
    _test,
    ks_clear_pass,
    ks_pvalue,
    ks_statistic,
)


@settings(max_examples=200, deadline=None)
@given(
    n_s=st.integers(2, 300),  # (1, 1) has no p-value in scipy either (nan)
    n_r=st.integers(2, 300),
    levels=st.sampled_from([0, 3, 50]),  # 0: continuous values; otherwise that many ties
    shift=st.floats(-1, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_statistic_and_pvalue_match_scipy(
    n_s: int, n_r: int, levels: int, shift: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    s = rng.standard_normal(n_s) + shift
    r = rng.standard_normal(n_r)
    if levels:
        s, r = np.round(s * levels / 4) / levels, np.round(r * levels / 4) / levels
    expected = stats.ks_2samp(s, r, method="asymp")
    d = ks_statistic(np.sort(s), np.sort(r))
    assert d == pytest.approx(float(expected.statistic), abs=1e-12)
    assert ks_pvalue(d, n_s, n_r) == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300)


def test_a_wrong_shape_of_distribution_is_rejected() -> None:
    """Same mean and variance, different shape: uniform against normal."""
    rng = np.random.default_rng(0)
    s = rng.uniform(-np.sqrt(3), np.sqrt(3), 20_000)
    r = rng.standard_normal(20_000)
    assert ks_pvalue(ks_statistic(np.sort(s), np.sort(r)), len(s), len(r)) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    n_s=st.integers(2, 3000),
    n_r=st.integers(2, 3000),
    alpha=st.sampled_from([1e-6, 1e-3, 0.05]),
    fraction=st.floats(0, 1),
)
def test_a_statistic_below_the_clear_pass_point_has_a_p_value_above_alpha(
    n_s: int, n_r: int, alpha: float, fraction: float
) -> None:
    """The shortcut never passes what the exact p-value would fail."""
    clear = ks_clear_pass(n_s, n_r, alpha)
    assert ks_pvalue(clear * fraction, n_s, n_r) >= alpha


def test_the_ks_verdict_is_the_exact_p_values_at_homework_sizes() -> None:
    """Samples of 131,072 (the size whose exact p-value is slow): same verdicts as before."""
    n = 131_072
    clear = ks_clear_pass(n, n, 1e-6)
    assert 0 < clear and ks_pvalue(clear, n, n) >= 1e-6
    rng = np.random.default_rng(1)
    r = _Sample(rng.uniform(-1, 1, n))
    for shift in (0.0, 0.004, 0.008, 0.012, 0.016, 0.02):  # 0.016: above the clear point
        s = _Sample(rng.uniform(-1, 1, n) + shift)
        d = ks_statistic(s.sorted, r.sorted)
        problem = _test("ks", s, r, 1e-6)
        assert (problem is None) == (ks_pvalue(d, n, n) >= 1e-6), (shift, d, problem)


def test_a_float32_sample_sorts_to_the_same_values_narrow() -> None:
    rng = np.random.default_rng(2)
    narrow = np.concatenate(
        [rng.standard_normal(5000).astype(np.float32), np.array([0.0, -0.0, 1e-45], np.float32)]
    )
    wide = narrow.astype(np.float64)
    np.testing.assert_array_equal(_Sample(wide, narrow).sorted, np.sort(wide))
    assert _Sample(wide, narrow).sorted.dtype == np.float64
