# ruff: noqa: F821
"""tanh by the textbook formula (e^x - e^-x) / (e^x + e^-x): inf / inf = NaN at |x| = 1e4. The
hand-written backward uses the stable formula, so only the values are wrong."""

import torch

CHECK = "activations/tanh-forward"
MESSAGE = "output: non-finite values (NaN) at index (0, 0), expected 1"


class _Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        e = torch.exp(-2 * x.abs())
        t = torch.sign(x) * (1 - e) / (1 + e)
        return grad_out * (1 - t * t)


def tanh(x):
    return _Tanh.apply(x)
