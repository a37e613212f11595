# ruff: noqa: F821
"""Everything computed and returned in float64, whatever the factors' dtype."""

CHECK = "implicit-als/dtype"
MESSAGE = "wrong dtype float64, expected float32"


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    return _implicit(fixed.double(), rows, cols, values.double(), n_rows, reg, alpha)
