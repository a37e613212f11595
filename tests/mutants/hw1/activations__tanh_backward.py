# ruff: noqa: F821
"""tanh as an autograd.Function whose backward uses 1 - t instead of 1 - t**2."""

import torch

CHECK = "activations/tanh-backward"
MESSAGE = "gradient of argument 0"


class _Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-2 * x.abs())
        t = torch.sign(x) * (1 - e) / (1 + e)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad_out):
        (t,) = ctx.saved_tensors
        return grad_out * (1 - t)


def tanh(x):
    return _Tanh.apply(x)
