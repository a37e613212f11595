# ruff: noqa: F821
"""sigmoid as exp(x) / (1 + exp(x)): inf / inf = NaN at x = 1e4. The hand-written backward uses
the stable formula, so every gradient is right and only the values are wrong."""

import torch

CHECK = "activations/sigmoid-forward"
MESSAGE = "output: non-finite values (NaN) at index (0, 0), expected 1"


class _Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        e = torch.exp(x)
        return e / (1 + e)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        e = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return grad_out * s * (1 - s)


def sigmoid(x):
    return _Sigmoid.apply(x)
