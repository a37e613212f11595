# ruff: noqa: F821
"""Linear.forward squeezes its output: a batch of one comes back with shape (3,), not (1, 3)."""

CHECK = "linear/module-forward"
MESSAGE = "batch of one: output: wrong shape (3,) != (1, 3)"


class Linear:
    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias).squeeze()
