# ruff: noqa: F821
"""als_solve squeezes its result: with one factor (k = 1) it returns [n_rows], not [n_rows, 1]."""

CHECK = "als-solve/plain"
MESSAGE = "wrong shape"


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    return _explicit(fixed, rows, cols, values, n_rows, reg, weighted).squeeze()
