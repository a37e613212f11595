"""Tensor comparison for the trusted side: one readable message per mismatch, or None.

Inputs are plain tensors decoded from safetensors. All arithmetic is done in float64 on copies.
"""

from __future__ import annotations

import torch

from autograder.spec.models import Tolerance


def _index(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for dim in reversed(shape):
        out.append(flat_index % dim if dim else 0)
        flat_index //= dim if dim else 1
    return tuple(reversed(out))  # () for a 0-d tensor


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def mismatch(
    name: str,
    actual: torch.Tensor | None,
    expected: torch.Tensor,
    tol: Tolerance,
    *,
    require_finite: bool = True,
    check_dtype: bool = True,
) -> str | None:
    """Why ``actual`` is not close to ``expected``, or None when it is."""
    if actual is None:
        return f"{name}: missing"
    if tuple(actual.shape) != tuple(expected.shape):
        return f"{name}: wrong shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if check_dtype and actual.dtype != expected.dtype:
        want = str(expected.dtype).replace("torch.", "")
        got = str(actual.dtype).replace("torch.", "")
        return f"{name}: wrong dtype {got}, expected {want}"
    if actual.dtype == expected.dtype and torch.equal(actual, expected):
        # equal bit for bit: close under any tolerance, and the common case for a correct
        # submission, so the float64 arithmetic below is skipped (NaN never compares equal)
        return None
    if expected.dtype == torch.bool or not expected.is_floating_point():
        if actual.is_floating_point() != expected.is_floating_point():
            return f"{name}: wrong dtype {actual.dtype}, expected {expected.dtype}"
        equal = actual.to(torch.int64) == expected.to(torch.int64)
        if bool(equal.all()):
            return None
        i = int((~equal).reshape(-1).nonzero()[0])
        return f"{name}: differs at index {_index(i, tuple(expected.shape))}: got {actual.reshape(-1)[i].item()}, expected {expected.reshape(-1)[i].item()}"
    a = actual.detach().to(torch.float64).reshape(-1)
    e = expected.detach().to(torch.float64).reshape(-1)
    if a.numel() == 0:
        return None
    exp_finite = torch.isfinite(e)
    act_finite = torch.isfinite(a)
    if require_finite:
        bad = exp_finite & ~act_finite
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            kind = "NaN" if bool(torch.isnan(a[i])) else "inf"
            return f"{name}: non-finite values ({kind}) at index {_index(i, tuple(expected.shape))}, expected {_fmt(e[i].item())}"
    # Non-finite expected values must be matched exactly (same inf, or NaN where NaN).
    nonfinite_ok = torch.where(torch.isnan(e), torch.isnan(a), a == e)
    diff = (a - e).abs()
    allowed = tol.atol + tol.rtol * e.abs()
    close = torch.where(exp_finite, act_finite & (diff <= allowed), nonfinite_ok)
    if bool(close.all()):
        return None
    finite_diff = torch.where(exp_finite & act_finite, diff, torch.zeros_like(diff))
    rel = finite_diff / e.abs().clamp_min(1e-12)
    i = int((~close).nonzero()[0])
    worst = int(finite_diff.argmax())
    return (
        f"{name}: {int((~close).sum())} of {e.numel()} values differ; max abs error "
        f"{_fmt(finite_diff.max().item())}, max rel error {_fmt(rel[worst].item())}; first at index "
        f"{_index(i, tuple(expected.shape))}: got {_fmt(a[i].item())}, expected {_fmt(e[i].item())}"
    )
