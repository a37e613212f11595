# ruff: noqa: F821
"""sigmoid as exp(x) / (1 + exp(x)): inf / inf = NaN at x = 1e4. Gradients on ordinary inputs are right."""

import torch

CHECK = "activations/sigmoid-forward"
MESSAGE = "output: non-finite values (NaN) at index (0, 0), expected 1"


def sigmoid(x):
    e = torch.exp(x)
    return e / (1 + e)
