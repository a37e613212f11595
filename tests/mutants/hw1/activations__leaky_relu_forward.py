# ruff: noqa: F821
"""leaky_relu squeezes its result: a batch of one loses its batch dimension (shape (3,), not (1, 3))."""

import torch

CHECK = "activations/leaky_relu-forward"
MESSAGE = "extreme values: output: wrong shape (3,) != (1, 3)"


def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, x, x * negative_slope).squeeze()
