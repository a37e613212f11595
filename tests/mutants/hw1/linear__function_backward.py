# ruff: noqa: F821
"""LinearFunction.backward computes in float16 to save memory: about 3 significant digits.

That passes gradcheck's rtol of 1e-3 (one-hot upstream gradients pick single elements) but not
the float32 comparison with the reference. The student's Linear module uses plain autograd ops
(the grader cannot tell), so only LinearFunction's backward is wrong.
"""

CHECK = "linear/function-backward"
MESSAGE = "gradient of argument 0"


class LinearFunction:
    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        g = grad_out.half()
        grad_x = (g @ weight.half()).to(x.dtype)
        grad_w = (g.t() @ x.half()).to(weight.dtype)
        grad_b = grad_out.sum(0) if bias is not None else None
        return grad_x, grad_w, grad_b


class Linear:
    def forward(self, x):
        out = x @ self.weight.t()
        return out if self.bias is None else out + self.bias
