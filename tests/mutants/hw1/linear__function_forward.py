# ruff: noqa: F821
"""LinearFunction.forward computes in float64 "for precision" and returns float64 for float32 inputs.

Its backward casts the incoming float64 gradient back, and the student's module casts the output
back, so the gradients and Linear are right: only the function's output dtype is wrong.
"""

CHECK = "linear/function-forward"
MESSAGE = "output: wrong dtype float64, expected float32"


class LinearFunction:
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight, bias)
        out = x.double() @ weight.double().t()
        if bias is not None:
            out = out + bias.double()
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        grad_out = grad_out.to(x.dtype)
        grad_b = grad_out.sum(0) if bias is not None else None
        return grad_out @ weight, grad_out.t() @ x, grad_b


class Linear:
    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias).to(x.dtype)
