# ruff: noqa: F821
"""LinearFunction.backward returns a bias gradient even when bias is None: autograd refuses a
gradient for an input that was not a tensor, so LinearFunction.apply(x, weight, None) fails."""

CHECK = "linear/function-backward"
MESSAGE = "bias=None"


class LinearFunction:
    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        return grad_out @ weight, grad_out.t() @ x, grad_out.sum(0)
