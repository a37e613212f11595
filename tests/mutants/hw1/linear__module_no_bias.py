# ruff: noqa: F821
"""Linear ignores bias=False and always adds a bias."""

import math

import torch
from torch import nn

CHECK = "linear/module-no-bias"
MESSAGE = "input randn(6, 4): output:"


class Linear:
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
