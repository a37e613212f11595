# ruff: noqa: F821
"""Dropout ignores self.training: it keeps dropping in eval mode."""

import torch

CHECK = "regularization/dropout-eval"
MESSAGE = "values differ"


class Dropout:
    def forward(self, x):
        if self.p == 0:
            return x
        keep = (torch.rand(x.shape) >= self.p).to(x.dtype)
        return x * keep / (1 - self.p)
