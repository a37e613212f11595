# ruff: noqa: F821
"""The textbook sigmoid 1 / (1 + exp(-x)): right values everywhere, but at x = -1e4 exp(-x) is
inf and the gradient is 0 * inf = NaN."""

import torch

CHECK = "activations/sigmoid-backward"
MESSAGE = "gradient at extreme values"


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))
