"""Distribution checks for random symbols (initialisers, dropout): student samples vs reference samples.

Raw values are never compared (a correct student may draw from the RNG differently). Instead each
configured test compares the two samples and fails only when its two-sided p-value is below
``alpha`` (default 1e-6): so a correct implementation fails a given test with probability at most
alpha, and a check of k tests on m cases at most k * m * alpha (about 1e-5 for the specs here).
Seeds are fixed, so a given submission always gets the same verdict.

- ``ks``: two-sample Kolmogorov-Smirnov (scipy) for the shape of the distribution.
- ``mean``: two-sample z-test of the means (n is in the tens of thousands).
- ``std``: z-test of log(var_s / var_r), whose variance is about (kurtosis_s - 1)/n_s + (kurtosis_r - 1)/n_r;
  far more powerful than KS against scale errors (a wrong gain or fan).
- ``support``: max |x| of both samples within 25/n relative (uniform families: the bound itself).
- ``zero_fraction``: two-proportion z-test of the fraction of exact zeros (dropout's drop rate).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from autograder.checks import Outcome, ProbePair, raw_failure


def _p_normal(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def _test(name: str, s: np.ndarray, r: np.ndarray, alpha: float) -> str | None:
    n_s, n_r = len(s), len(r)
    if name == "ks":
        p = float(stats.ks_2samp(s, r, method="asymp").pvalue)
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
        ks_ = float(stats.kurtosis(s, fisher=False))
        kr = float(stats.kurtosis(r, fisher=False))
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
        s, r = s_t.double().numpy(), r_t.double().numpy()
        exact = s
        if check.sample == "output_over_input":
            # x * (keep / (1 - p)) and x * keep / (1 - p) differ in the last float32 bit; a ratio
            # sample is a few point masses, and KS would tell those bits apart
            s, r = _round_sig(s), _round_sig(r)
        if not np.isfinite(s).all():
            return Outcome.failed(f"{pair.label}: produced non-finite values")
        for name in check.tests:
            problem = _test(name, s, r, check.alpha)
            if problem:
                return Outcome.failed(f"{pair.label}: {problem}")
        if check.check_backward_mask:
            g = pair.student.outputs.get("grad_ratio")
            if g is None or g.numel() != s_t.numel():
                return Outcome.failed(f"{pair.label}: no gradient reached the input")
            if not np.allclose(g.double().numpy(), exact, rtol=1e-5, atol=1e-6):
                return Outcome.failed(
                    f"{pair.label}: the backward pass does not use the forward pass's mask and scale"
                )
        metrics[pair.label] = {
            "mean": float(s.mean()),
            "std": float(s.std()),
            "reference_std": float(r.std()),
        }
    return Outcome.passed(**{"samples": metrics})
