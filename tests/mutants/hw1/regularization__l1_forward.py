# ruff: noqa: F821
"""l1_penalty starts from torch.zeros(1): the result has shape (1,) instead of being 0-d."""

import torch

CHECK = "regularization/l1-forward"
MESSAGE = "output: wrong shape (1,) != ()"


def l1_penalty(parameters):
    total = torch.zeros(1)
    for p in parameters:
        total = total + p.abs().sum()
    return total
