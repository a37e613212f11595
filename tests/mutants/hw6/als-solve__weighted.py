# ruff: noqa: F821
"""Weighted regularisation forgotten: lambda_r = reg for every row, whatever weighted says."""

CHECK = "als-solve/weighted"
MESSAGE = "values differ"


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    return _explicit(fixed, rows, cols, values, n_rows, reg, False)
