# ruff: noqa: F821
"""Every row solved, the empty ones too, trusting reg > 0 to make their systems regular: with
reg = 0 an empty row's system is singular."""

CHECK = "edge-cases/solve-without-reg"
MESSAGE = "singular"


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    dtype, k = fixed.dtype, fixed.shape[1]
    values = values.to(dtype)
    counts = torch.bincount(rows, minlength=n_rows)[:n_rows].to(dtype)
    lam = reg * counts if weighted else torch.full((n_rows,), float(reg), dtype=dtype)
    a = _gram(fixed, rows, cols, torch.ones_like(values), n_rows)
    a = a + lam[:, None, None] * torch.eye(k, dtype=dtype)
    return torch.linalg.solve(a, _rhs(fixed, rows, cols, values, n_rows))
