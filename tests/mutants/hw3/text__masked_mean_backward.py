# ruff: noqa: F821
"""Zeroes the padded positions of x in place: a leaf that requires grad cannot be modified."""

import torch

CHECK = "text/masked-mean-backward"
MESSAGE = "in-place"


def masked_mean(x, lengths):
    keep = torch.arange(x.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    x[~keep] = 0.0
    return x.sum(dim=1) / lengths.unsqueeze(1).to(x.dtype)
