# ruff: noqa: F821
"""BatchNorm1d's eval branch forgets the shift: (x - running_mean) / std * weight, no + bias.
With the default bias 0 nothing shows; with a trained bias the eval output is wrong."""

import torch

CHECK = "batchnorm/forward-eval"
MESSAGE = "output: 96 of 96 values differ"


class BatchNorm1d:
    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) / torch.sqrt(self.running_var + self.eps) * self.weight
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        n = x.shape[0]
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
