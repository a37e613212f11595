# ruff: noqa: F821
"""tanh by the textbook formula (e^x - e^-x) / (e^x + e^-x): inf / inf = NaN at |x| = 1e4."""

import torch

CHECK = "activations/tanh-forward"


def tanh(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
