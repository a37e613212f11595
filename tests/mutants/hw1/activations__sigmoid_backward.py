# ruff: noqa: F821
"""sigmoid as an autograd.Function whose backward forgets the (1 - s) factor."""

import torch

CHECK = "activations/sigmoid-backward"
MESSAGE = "gradient of argument 0"


class _Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_out):
        (s,) = ctx.saved_tensors
        return grad_out * s


def sigmoid(x):
    return _Sigmoid.apply(x)
