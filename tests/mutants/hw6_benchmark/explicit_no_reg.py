# ruff: noqa: F821
"""The regularisation forgotten in every half-step: movies with a rating or two get
unconstrained factors (or a singular system), and held-out predictions fall apart."""


def _explicit(fixed, rows, cols, values, n_rows, reg, weighted):
    dtype, k = fixed.dtype, fixed.shape[1]
    values = values.to(dtype)
    counts = torch.bincount(rows, minlength=n_rows)[:n_rows]
    a = _gram(fixed, rows, cols, torch.ones_like(values), n_rows)
    b = _rhs(fixed, rows, cols, values, n_rows)
    x = torch.zeros(n_rows, k, dtype=dtype)
    seen = counts > 0
    # lstsq: the least-squares solution even where a system is singular
    x[seen] = torch.linalg.lstsq(a[seen], b[seen][..., None]).solution[..., 0]
    return x
