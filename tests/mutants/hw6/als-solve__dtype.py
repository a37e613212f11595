# ruff: noqa: F821
"""The result in the dtype of the ratings, not of the fixed factors."""

CHECK = "als-solve/dtype"
MESSAGE = "wrong dtype float32, expected float64"


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    return _explicit(fixed, rows, cols, values, n_rows, reg, weighted).to(values.dtype)
