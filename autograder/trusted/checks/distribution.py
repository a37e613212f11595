"""Distribution checks for random symbols (initialisers, dropout): student samples vs reference samples.

Raw values are never compared (a correct student may draw from the RNG differently). Instead each
configured test compares the two samples and fails only when its two-sided p-value is below
``alpha`` (default 1e-6): so a correct implementation fails a given test with probability at most
alpha, and a check of k tests on m cases at most k * m * alpha (about 1e-5 for the specs here).
Seeds are fixed, so a given submission always gets the same verdict. A student sample equal to
the reference's, value for value, passes every test by construction and is not tested further.

- ``ks``: two-sample Kolmogorov-Smirnov for the shape of the distribution: the statistic is
  computed from the reference sample sorted once (scipy's ``ks_2samp`` re-sorts it for every
  submission, three quarters of a submission's scoring time), the p-value is scipy's, exactly as
  ``ks_2samp(method="asymp")`` gives it; a test holds the two equal. A statistic below a point
  where that p-value is known to exceed alpha passes without computing it (``ks_clear_pass``).
- ``mean``: two-sample z-test of the means (n is in the tens of thousands).
- ``std``: z-test of log(var_s / var_r), whose variance is about (kurtosis_s - 1)/n_s + (kurtosis_r - 1)/n_r;
  far more powerful than KS against scale errors (a wrong gain or fan).
- ``support``: max |x| of both samples within 25/n relative (uniform families: the bound itself).
- ``zero_fraction``: two-proportion z-test of the fraction of exact zeros (dropout's drop rate).

With ``per_last_dim`` the sample is [n, D] (rows drawn from D distributions, one per column,
e.g. a reparameterised Gaussian per latent dimension) and every test runs on each column
separately: the false-fail rate of a correct implementation is then at most
tests x D x cases x alpha.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
from scipy import stats

from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure


def _p_normal(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def ks_statistic(s_sorted: np.ndarray, r_sorted: np.ndarray) -> float:
    """sup |F_s - F_r| of two sorted 1-d samples (ties handled as scipy's ks_2samp does)."""
    n_s, n_r = len(s_sorted), len(r_sorted)
    both = np.concatenate([s_sorted, r_sorted])
    order = np.argsort(both, kind="stable")  # a merge of two sorted runs: linear time
    steps = np.where(order < n_s, 1.0 / n_s, -1.0 / n_r)
    gap = np.cumsum(steps)
    values = both[order]
    # compare the two ECDFs only after the last of a run of equal values
    ends = np.append(values[1:] != values[:-1], True)
    return float(np.abs(gap[ends]).max())


def ks_pvalue(d: float, n_s: int, n_r: int) -> float:
    """Two-sided p-value of the KS statistic ``d``, as ``ks_2samp(method="asymp")`` computes it."""
    m, n = sorted([float(n_s), float(n_r)], reverse=True)
    return float(stats.kstwo.sf(d, np.round(m * n / (m + n))))


@functools.lru_cache(maxsize=256)
def ks_clear_pass(n_s: int, n_r: int, alpha: float) -> float:
    """A KS statistic at or below which the p-value is at least ``alpha`` (0.0: none found).

    scipy's exact p-value takes about 18 ms for samples of 100,000 (Durbin's matrix method),
    and a correct submission's statistic is far below the critical one. The p-value falls as
    the statistic grows, so one exact p-value at a point below the asymptotic critical value,
    computed once per sample sizes, settles every statistic below that point with the verdict
    the exact p-value would give.
    """
    m, n = sorted([float(n_s), float(n_r)], reverse=True)
    d = float(stats.kstwobign.isf(alpha)) / math.sqrt(m * n / (m + n))
    for _ in range(8):
        d *= 0.8
        if ks_pvalue(d, n_s, n_r) >= alpha:
            return d
    return 0.0


class _Sample:
    """One sample and what the tests need of it; kept with the reference's outputs."""

    def __init__(self, values: np.ndarray, narrow: np.ndarray | None = None) -> None:
        """``narrow``: the same values in float32, if they all are float32 values."""
        self.values = values
        self._narrow = narrow
        self._sorted: np.ndarray | None = None
        self._kurtosis: float | None = None

    @property
    def sorted(self) -> np.ndarray:
        if self._sorted is None:
            if self._narrow is not None:
                # widening keeps the order: the same array, sorted in half the memory traffic
                self._sorted = np.sort(self._narrow).astype(np.float64)
            else:
                self._sorted = np.sort(self.values)
        return self._sorted

    @property
    def kurtosis(self) -> float:
        if self._kurtosis is None:
            self._kurtosis = float(stats.kurtosis(self.values, fisher=False))
        return self._kurtosis


def _test(name: str, sample_s: _Sample, sample_r: _Sample, alpha: float) -> str | None:
    s, r = sample_s.values, sample_r.values
    n_s, n_r = len(s), len(r)
    if name == "ks":
        d = ks_statistic(sample_s.sorted, sample_r.sorted)
        if d <= ks_clear_pass(n_s, n_r, alpha):
            return None
        p = ks_pvalue(d, n_s, n_r)
        return (
            None
            if p >= alpha
            else f"the values do not follow the expected distribution (KS test p = {p:.2g})"
        )
    if name == "mean":
        se = math.sqrt(s.var() / n_s + r.var() / n_r)
        diff = s.mean() - r.mean()
        if se == 0:
            return None if abs(diff) <= 1e-12 else f"mean {s.mean():.6g}, expected {r.mean():.6g}"
        p = _p_normal(diff / se)
        return (
            None
            if p >= alpha
            else f"mean {s.mean():.6g}, expected about {r.mean():.6g} (p = {p:.2g})"
        )
    if name == "std":
        vs, vr = s.var(), r.var()
        if vr == 0 or vs == 0:
            return (
                None
                if vs == vr
                else f"standard deviation {math.sqrt(vs):.6g}, expected {math.sqrt(vr):.6g}"
            )
        ks_, kr = sample_s.kurtosis, sample_r.kurtosis
        se = math.sqrt(max(ks_ - 1, 1e-3) / n_s + max(kr - 1, 1e-3) / n_r)
        p = _p_normal(math.log(vs / vr) / se)
        return (
            None
            if p >= alpha
            else f"standard deviation {math.sqrt(vs):.6g}, expected about {math.sqrt(vr):.6g} (p = {p:.2g})"
        )
    if name == "support":
        ms, mr = float(np.abs(s).max()), float(np.abs(r).max())
        if mr == 0:
            return None if ms == 0 else f"values should all be 0, got max |x| = {ms:.6g}"
        if abs(ms - mr) / mr > 25.0 / min(n_s, n_r) + 1e-6:
            return (
                f"largest |value| {ms:.6g}, expected about {mr:.6g} (the bound of the distribution)"
            )
        return None
    if name == "zero_fraction":
        zs, zr = float((s == 0).mean()), float((r == 0).mean())
        pooled = (zs * n_s + zr * n_r) / (n_s + n_r)
        se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_s + 1 / n_r))
        p = _p_normal((zs - zr) / se) if se > 0 else (1.0 if zs == zr else 0.0)
        return (
            None
            if p >= alpha
            else f"{zs:.4%} of values are zero, expected about {zr:.4%} (p = {p:.2g})"
        )
    raise ValueError(name)


def _round_sig(x: np.ndarray, digits: int = 5) -> np.ndarray:
    """Round to ``digits`` significant digits (zeros stay zero)."""
    scale = np.where(
        x == 0, 1.0, 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(np.where(x == 0, 1.0, x)))))
    )
    return np.round(x * scale) / scale


def _comparable(values: np.ndarray, sample: str) -> np.ndarray:
    if sample == "output_over_input":
        # x * (keep / (1 - p)) and x * keep / (1 - p) differ in the last float32 bit; a ratio
        # sample is a few point masses, and KS would tell those bits apart
        return _round_sig(values)
    return values


def _per_last_dim(pair: ProbePair, s_t: torch.Tensor, r_t: torch.Tensor, check: Any) -> str:
    """Each test on every column of [n, D] samples (one distribution per column), or ''."""
    if s_t.shape != r_t.shape or s_t.dim() != 2:
        return f"produced samples of shape {tuple(s_t.shape)}, expected {tuple(r_t.shape)}"
    columns = s_t.double().numpy()
    if not np.isfinite(columns).all():
        return "produced non-finite values"
    for j in range(columns.shape[1]):
        key = ("sample", check.sample, "column", j)
        reference = pair.reference.derived.get(key)
        if reference is None:
            values = _comparable(np.ascontiguousarray(r_t[:, j].double().numpy()), check.sample)
            reference = pair.reference.derived[key] = _Sample(values)
        s = _comparable(np.ascontiguousarray(columns[:, j]), check.sample)
        if np.array_equal(s, reference.values):
            continue
        sample = _Sample(s)
        for name in check.tests:
            problem = _test(name, sample, reference, check.alpha)
            if problem:
                return f"index {j} of the last dimension: {problem}"
    return ""


def evaluate(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    metrics: dict[str, Any] = {}
    for pair in pairs:
        failure = raw_failure(pair)
        if failure:
            return failure
        if check.sample == "input" and not pair.student.facts.get("returns_input"):
            return Outcome.failed(f"{pair.label}: must fill its argument in place and return it")
        s_t, r_t = pair.student.outputs.get("sample"), pair.reference.outputs["sample"]
        if s_t is None or s_t.numel() != r_t.numel():
            got = "nothing" if s_t is None else f"{s_t.numel()} values"
            return Outcome.failed(f"{pair.label}: produced {got}, expected {r_t.numel()} values")
        if check.per_last_dim:
            problem = _per_last_dim(pair, s_t, r_t, check)
            if problem:
                return Outcome.failed(f"{pair.label}: {problem}")
        exact = s_t.reshape(-1).double().numpy()
        s = _comparable(exact, check.sample)
        reference = pair.reference.derived.get(("sample", check.sample))
        if reference is None:
            reference = _Sample(_comparable(r_t.reshape(-1).double().numpy(), check.sample))
            pair.reference.derived[("sample", check.sample)] = reference
        r = reference.values
        if not np.isfinite(s).all():
            return Outcome.failed(f"{pair.label}: produced non-finite values")
        if not check.per_last_dim and not np.array_equal(s, r):
            narrow = s is exact and s_t.dtype == torch.float32
            sample = _Sample(s, s_t.reshape(-1).numpy() if narrow else None)
            for name in check.tests:
                problem = _test(name, sample, reference, check.alpha)
                if problem:
                    return Outcome.failed(f"{pair.label}: {problem}")
        if check.check_backward_mask:
            g = pair.student.outputs.get("grad_ratio")
            if g is None or g.numel() != s_t.numel():
                return Outcome.failed(f"{pair.label}: no gradient reached the input")
            if not np.allclose(g.reshape(-1).double().numpy(), exact, rtol=1e-5, atol=1e-6):
                return Outcome.failed(
                    f"{pair.label}: the backward pass does not use the forward pass's mask and scale"
                )
        metrics[pair.label] = {
            "mean": float(s.mean()),
            "std": float(s.std()),
            "reference_std": float(r.std()),
        }
    return Outcome.passed(**{"samples": metrics})
