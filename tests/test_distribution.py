"""The KS test computed from a pre-sorted reference agrees with scipy's ks_2samp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from autograder.checks.distribution import ks_pvalue, ks_statistic


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
