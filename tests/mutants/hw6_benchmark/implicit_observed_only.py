# ruff: noqa: F821
"""Implicit ALS without the unobserved entries: Y^T Y left out, so only the rated items shape
a user's factors and nothing pushes the unrated ones down."""


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    dtype, k = fixed.dtype, fixed.shape[1]
    confidence = 1.0 + alpha * values.to(dtype)
    a = reg * torch.eye(k, dtype=dtype) + _gram(fixed, rows, cols, confidence, n_rows)
    b = _rhs(fixed, rows, cols, confidence, n_rows)
    return torch.linalg.solve(a, b)
