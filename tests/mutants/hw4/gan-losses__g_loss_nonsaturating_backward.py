# ruff: noqa: F821
"""g_loss_nonsaturating as an autograd.Function whose backward forgets the mean's 1/N: the
gradient is N times too large (the loss values are right)."""

import torch

CHECK = "gan-losses/g_loss_nonsaturating-backward"
MESSAGE = "gradient of argument 0"


class _NonSaturating(torch.autograd.Function):
    @staticmethod
    def forward(ctx, fake_logits):
        ctx.save_for_backward(fake_logits)
        return _softplus(-fake_logits).mean()

    @staticmethod
    def backward(ctx, grad_out):
        (f,) = ctx.saved_tensors
        return grad_out * (torch.sigmoid(f) - 1)


def g_loss_nonsaturating(fake_logits):
    return _NonSaturating.apply(fake_logits)
