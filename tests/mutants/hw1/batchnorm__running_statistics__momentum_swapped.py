# ruff: noqa: F821
"""BatchNorm1d uses momentum the other way round (Keras's convention): running = momentum * running
+ (1 - momentum) * batch."""

import torch

CHECK = "batchnorm/running-statistics"
MESSAGE = "after step 1 (train mode): running_mean"


class BatchNorm1d:
    def forward(self, x):
        if self.training:
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            n = x.shape[0]
            m = self.momentum
            with torch.no_grad():
                self.running_mean.mul_(m).add_((1 - m) * mean)
                self.running_var.mul_(m).add_((1 - m) * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
