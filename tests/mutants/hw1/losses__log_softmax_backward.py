# ruff: noqa: F821
"""log_softmax as an autograd.Function whose backward is grad - softmax (right only when the
upstream gradient sums to 1 per row, as for one-hot targets), not grad - softmax * sum(grad).

cross_entropy computes its own (stable) log-softmax inline, so only log_softmax is wrong.
"""

import torch

CHECK = "losses/log_softmax-backward"
MESSAGE = "gradient of argument 0"


class _LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, dim):
        shifted = z - z.amax(dim=dim, keepdim=True)
        out = shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (out,) = ctx.saved_tensors
        return grad_out - torch.exp(out), None


def log_softmax(z, dim=-1):
    return _LogSoftmax.apply(z, dim)


def cross_entropy(logits, target):
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    logp = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -logp.gather(1, target.long().view(-1, 1)).mean()
