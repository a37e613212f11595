# ruff: noqa: F821
"""BatchNorm1d updates running_var with the biased batch variance (divides by n, not n - 1)."""

import torch

CHECK = "batchnorm/running-statistics"
MESSAGE = "after step 1 (train mode): running_var: 6 of 6 values differ"


class BatchNorm1d:
    def forward(self, x):
        if self.training:
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
