# ruff: noqa: F821
"""tanh by the textbook formula (e^x - e^-x) / (e^x + e^-x): inf / inf = NaN at |x| = 1e4."""

import torch

CHECK = "activations/tanh-forward"
MESSAGE = "output: non-finite values (NaN) at index (0, 0), expected 1"


def tanh(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
