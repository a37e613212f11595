# ruff: noqa: F821
"""The weighted-lambda rule of explicit ALS carried over: reg times the row's number of
entries instead of reg."""

CHECK = "implicit-als/forward"
MESSAGE = "values differ"


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    dtype, k = fixed.dtype, fixed.shape[1]
    extra = alpha * values.to(dtype)
    counts = torch.bincount(rows, minlength=n_rows)[:n_rows].to(dtype)
    a = (fixed.T @ fixed)[None] + reg * counts[:, None, None] * torch.eye(k, dtype=dtype)
    a = a + _gram(fixed, rows, cols, extra, n_rows)
    b = _rhs(fixed, rows, cols, 1.0 + extra, n_rows)
    return torch.linalg.solve(a, b)
