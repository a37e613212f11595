# ruff: noqa: F821
"""Preferences without confidences: every observed entry weighs 1, like an unobserved one,
so the factors only fit a 0/1 matrix under heavy regularisation."""


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    dtype, k = fixed.dtype, fixed.shape[1]
    a = fixed.T @ fixed + reg * torch.eye(k, dtype=dtype)
    b = _rhs(fixed, rows, cols, torch.ones_like(values, dtype=dtype), n_rows)
    return torch.linalg.solve(a, b)
