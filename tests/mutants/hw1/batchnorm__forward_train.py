# ruff: noqa: F821
"""BatchNorm1d with a hand-written train-mode autograd.Function: the backward is right, but the
forward forgets the shift (returns weight * x_hat, no + bias). With the default weight 1 and
bias 0 the output is right, so only outputs with a trained bias are wrong."""

import torch

CHECK = "batchnorm/forward-train"
MESSAGE = "output: 96 of 96 values differ"


class _BatchNormTrain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        inv_std = 1 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        ctx.save_for_backward(x_hat, weight, inv_std)
        return x_hat * weight

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, weight, inv_std = ctx.saved_tensors
        n = grad_out.shape[0]
        d_hat = grad_out * weight
        grad_x = inv_std / n * (n * d_hat - d_hat.sum(0) - x_hat * (d_hat * x_hat).sum(0))
        return grad_x, (grad_out * x_hat).sum(0), grad_out.sum(0), None


class BatchNorm1d:
    def forward(self, x):
        if not self.training:
            mean, var = self.running_mean, self.running_var
            return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        n = x.shape[0]
        with torch.no_grad():
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        return _BatchNormTrain.apply(x, self.weight, self.bias, self.eps)
