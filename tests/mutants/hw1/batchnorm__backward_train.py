# ruff: noqa: F821
"""BatchNorm1d with a hand-written train-mode autograd.Function whose backward forgets that the
batch mean and variance depend on x: grad_x = grad_out * weight / std."""

import torch

CHECK = "batchnorm/backward-train"
MESSAGE = "gradient of argument 0"


class _BatchNormTrain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        inv_std = 1 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        ctx.save_for_backward(x_hat, weight, inv_std)
        return x_hat * weight + bias

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, weight, inv_std = ctx.saved_tensors
        grad_x = grad_out * weight * inv_std
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
