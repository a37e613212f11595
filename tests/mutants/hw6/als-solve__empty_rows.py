# ruff: noqa: F821
"""The number of rows read from the data (rows.max() + 1) instead of n_rows: trailing rows
without an observation are missing from the result."""

CHECK = "als-solve/empty-rows"
MESSAGE = "wrong shape"


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    n_rows = int(rows.max()) + 1
    return _explicit(fixed, rows, cols, values, n_rows, reg, weighted)
