# ruff: noqa: F821
"""l2_penalty accumulates in a float64 zero and returns float64 for float32 parameters."""

import torch

CHECK = "regularization/l2-forward"
MESSAGE = "output: wrong dtype float64, expected float32"


def l2_penalty(parameters):
    total = torch.zeros((), dtype=torch.float64)
    for p in parameters:
        total = total + (p * p).sum()
    return total
