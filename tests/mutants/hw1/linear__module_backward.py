# ruff: noqa: F821
"""Linear.forward passes weight.data and bias.data: the output is right, no gradient reaches them."""

CHECK = "linear/module-backward"
MESSAGE = "gradient of bias: 3 of 3 values differ"


class Linear:
    def forward(self, x):
        bias = None if self.bias is None else self.bias.data
        return LinearFunction.apply(x, self.weight.data, bias)
