# ruff: noqa: F821
"""cosine_similarity_matrix divides by detached norms "to keep the gradient simple": the values
are right, but no gradient flows through the normalisation."""

import torch

CHECK = "cosine/backward"
MESSAGE = "gradient of argument 0"


def cosine_similarity_matrix(a, b, eps=1e-8):
    na = torch.linalg.vector_norm(a, dim=-1, keepdim=True).clamp_min(eps).detach()
    nb = torch.linalg.vector_norm(b, dim=-1, keepdim=True).clamp_min(eps).detach()
    return (a / na) @ (b / nb).T
