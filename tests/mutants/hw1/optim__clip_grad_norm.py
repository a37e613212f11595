# ruff: noqa: F821
"""clip_grad_norm_ returns the norm after clipping (min(total, max_norm)), not the original total."""

import torch

CHECK = "optim/clip_grad_norm"
MESSAGE = "gradients with total norm above max_norm: output: 1 of 1 values differ"


def clip_grad_norm_(parameters, max_norm):
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.tensor(0.0)
    total = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad.detach().mul_(scale)
        return torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))
    return total
