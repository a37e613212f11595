# ruff: noqa: F821
"""mse_loss as an autograd.Function whose backward returns None for the target (no gradient there)."""

import torch

CHECK = "losses/mse_loss-backward"
MESSAGE = "gradient of argument 1"


class _MSE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return (diff * diff).mean()

    @staticmethod
    def backward(ctx, grad_out):
        (diff,) = ctx.saved_tensors
        return grad_out * 2 * diff / diff.numel(), None


def mse_loss(pred, target):
    return _MSE.apply(pred, target)
