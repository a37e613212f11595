# ruff: noqa: F821
"""g_loss_minimax as an autograd.Function whose hand-written backward drops the minus sign:
d/df of -softplus(f) is -sigmoid(f), not +sigmoid(f). The loss values are right."""

import torch

CHECK = "gan-losses/g_loss_minimax-backward"
MESSAGE = "gradient of argument 0"


class _Minimax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, fake_logits):
        ctx.save_for_backward(fake_logits)
        return -_softplus(fake_logits).mean()

    @staticmethod
    def backward(ctx, grad_out):
        (f,) = ctx.saved_tensors
        return grad_out * torch.sigmoid(f) / f.numel()


def g_loss_minimax(fake_logits):
    return _Minimax.apply(fake_logits)
