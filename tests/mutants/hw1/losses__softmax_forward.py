# ruff: noqa: F821
"""softmax without subtracting the max: exp(1000) overflows to inf and inf / inf = NaN."""

import torch

CHECK = "losses/softmax-forward"
MESSAGE = "large logits (+-1000, +-88): output: non-finite values (NaN)"


def softmax(z, dim=-1):
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)
