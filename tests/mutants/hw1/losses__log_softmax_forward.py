# ruff: noqa: F821
"""log_softmax as log(softmax(z)): softmax underflows to 0 far from the max, so log gives -inf.
The hand-written backward works from a stable softmax, so only the values are wrong.

cross_entropy computes its own (stable) log-softmax inline, so only log_softmax is wrong.
"""

import torch

CHECK = "losses/log_softmax-forward"
MESSAGE = (
    "large logits (+-1000, +-88): output: non-finite values (inf) at index (3, 2), expected -176"
)


class _LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, dim):
        ctx.save_for_backward(z)
        ctx.dim = dim
        return torch.log(softmax(z, dim=dim))

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        e = torch.exp(z - z.amax(dim=ctx.dim, keepdim=True))
        s = e / e.sum(dim=ctx.dim, keepdim=True)
        return grad_out - s * grad_out.sum(dim=ctx.dim, keepdim=True), None


def log_softmax(z, dim=-1):
    return _LogSoftmax.apply(z, dim)


def cross_entropy(logits, target):
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    logp = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -logp.gather(1, target.long().view(-1, 1)).mean()
