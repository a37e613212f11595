# ruff: noqa: F821
"""leaky_relu as an autograd.Function whose backward uses the default slope 0.01, not the one passed."""

import torch

CHECK = "activations/leaky_relu-backward"
MESSAGE = "negative_slope=0.05: gradient of argument 0"


class _LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_out, grad_out * 0.01), None


def leaky_relu(x, negative_slope=0.01):
    return _LeakyReLU.apply(x, negative_slope)
