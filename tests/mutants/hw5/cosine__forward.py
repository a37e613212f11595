# ruff: noqa: F821
"""cosine_similarity_matrix clamps the product of the two norms at eps (the formula torch's
documentation gave until 1.12), not each norm: the same values everywhere except for rows
shorter than eps."""

import torch

CHECK = "cosine/forward"
MESSAGE = (
    "rows shorter than eps = 1e-3 (each row's norm is clamped at eps): output: 4 of 6 values differ"
)


def cosine_similarity_matrix(a, b, eps=1e-8):
    na = torch.linalg.vector_norm(a, dim=-1, keepdim=True)
    nb = torch.linalg.vector_norm(b, dim=-1, keepdim=True)
    return (a @ b.T) / (na * nb.T).clamp_min(eps)
