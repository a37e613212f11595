# ruff: noqa: F821
"""The textbook formula with the dense confidence and preference matrices (n_rows x M): right
on small inputs, out of memory on a real catalogue."""

CHECK = "implicit-als/scale"
MESSAGE = "memory"


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    dtype, k = fixed.dtype, fixed.shape[1]
    confidence = torch.ones(n_rows, fixed.shape[0], dtype=dtype)
    confidence[rows, cols] = 1.0 + alpha * values.to(dtype)
    preference = torch.zeros(n_rows, fixed.shape[0], dtype=dtype)
    preference[rows, cols] = 1.0
    a = torch.einsum("mk,rm,ml->rkl", fixed, confidence, fixed) + reg * torch.eye(k, dtype=dtype)
    b = (confidence * preference) @ fixed
    return torch.linalg.solve(a, b)
