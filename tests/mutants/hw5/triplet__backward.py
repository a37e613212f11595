# ruff: noqa: F821
"""triplet_margin_loss with a hand-written backward that forgets the 1 / N of the mean: the loss
is right, every gradient N times too large."""

import torch

CHECK = "triplet/backward"
MESSAGE = "gradient of argument 0"


class _MeanHinge(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0).mean()

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * (x > 0).to(x.dtype)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    d_ap = _pairwise_distance(anchor, positive, p, eps)
    d_an = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = torch.minimum(d_an, _pairwise_distance(positive, negative, p, eps))
    return _MeanHinge.apply(margin + d_ap - d_an)
