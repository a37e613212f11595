# ruff: noqa: F821
"""LinearFunction accumulates the weight gradient in a buffer kept on ctx.

One backward pass (the forward/backward checks, and training) is right; every further backward
through the same graph adds to the stale buffer, so the Jacobian that gradcheck builds row by row
(one backward per output element, retain_graph=True) is wrong from its second row.
"""

import torch

CHECK = "linear/function-gradcheck"
MESSAGE = "gradcheck failed: d output[1] / d input["


class LinearFunction:
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias)
        ctx.grad_weight = torch.zeros_like(weight)
        out = x @ weight.t()
        if bias is not None:
            out = out + bias
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        ctx.grad_weight += grad_out.t() @ x
        grad_b = grad_out.sum(0) if bias is not None else None
        return grad_out @ weight, ctx.grad_weight.clone(), grad_b
