# ruff: noqa: F821
"""Linear keeps weight and bias as plain tensors with requires_grad=True, not nn.Parameters.

module.parameters() is empty, so an optimizer built from it never updates the layer.
"""

import math

import torch

CHECK = "linear/module-parameters"
MESSAGE = "Linear.weight must be an nn.Parameter"


class Linear:
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = (
            torch.empty(out_features, in_features).uniform_(-bound, bound).requires_grad_()
        )
        self.bias = (
            torch.empty(out_features).uniform_(-bound, bound).requires_grad_() if bias else None
        )
