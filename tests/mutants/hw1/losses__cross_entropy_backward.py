# ruff: noqa: F821
"""cross_entropy as an autograd.Function whose backward is softmax - onehot, without the 1 / N of the mean."""

import torch

CHECK = "losses/cross_entropy-backward"
MESSAGE = "gradient of argument 0"


class _CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        logp = log_softmax(logits, dim=1)
        ctx.save_for_backward(logp, target)
        return -logp.gather(1, target.long().view(-1, 1)).mean()

    @staticmethod
    def backward(ctx, grad_out):
        logp, target = ctx.saved_tensors
        onehot = torch.zeros_like(logp).scatter_(1, target.long().view(-1, 1), 1.0)
        return grad_out * (torch.exp(logp) - onehot), None


def cross_entropy(logits, target):
    return _CrossEntropy.apply(logits, target)
