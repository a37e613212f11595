# ruff: noqa: F821
"""tanh made stable by picking the formula by sign with torch.where: the values are right, but
the branch not taken overflows at +-88 and +-1e4, and its NaN gradient reaches x."""

import torch

CHECK = "activations/tanh-backward"
MESSAGE = "gradient at extreme values"


def tanh(x):
    e = torch.exp(-2 * x)
    e2 = torch.exp(2 * x)
    return torch.where(x >= 0, (1 - e) / (1 + e), (e2 - 1) / (e2 + 1))
