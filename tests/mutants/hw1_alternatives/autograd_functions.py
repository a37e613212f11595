# ruff: noqa: F821
"""Correct, in another style: hand-written autograd.Functions for the activations, softmax,
log_softmax, the losses and batch norm's train mode; binary_step goes through a Function too, so
its output requires grad (with a zero gradient)."""

import torch


class _Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s * (1 - s)


class _Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-2 * x.abs())
        t = torch.sign(x) * (1 - e) / (1 + e)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * (1 - t * t)


class _LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return torch.where(positive, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        return torch.where(positive, g, g * ctx.slope), None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        return torch.zeros_like(g)


class _Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, dim):
        e = torch.exp(z - z.amax(dim=dim, keepdim=True))
        s = e / e.sum(dim=dim, keepdim=True)
        ctx.save_for_backward(s)
        ctx.dim = dim
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(dim=ctx.dim, keepdim=True)), None


class _LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, dim):
        shifted = z - z.amax(dim=dim, keepdim=True)
        out = shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - torch.exp(out) * g.sum(dim=ctx.dim, keepdim=True), None


class _CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        logp = _LogSoftmax.forward(ctx, logits, 1)
        index = target.long().view(-1, 1)
        ctx.save_for_backward(logp, index)
        return -logp.gather(1, index).mean()

    @staticmethod
    def backward(ctx, g):
        logp, index = ctx.saved_tensors
        onehot = torch.zeros_like(logp).scatter_(1, index, 1.0)
        return g * (torch.exp(logp) - onehot) / logp.shape[0], None


class _MSE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return (diff * diff).mean()

    @staticmethod
    def backward(ctx, g):
        (diff,) = ctx.saved_tensors
        grad = g * 2 * diff / diff.numel()
        return grad, -grad


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
    def backward(ctx, g):
        x_hat, weight, inv_std = ctx.saved_tensors
        n = g.shape[0]
        d_hat = g * weight
        grad_x = inv_std / n * (n * d_hat - d_hat.sum(0) - x_hat * (d_hat * x_hat).sum(0))
        return grad_x, (g * x_hat).sum(0), g.sum(0), None


def sigmoid(x):
    return _Sigmoid.apply(x)


def tanh(x):
    return _Tanh.apply(x)


def relu(x):
    return _LeakyReLU.apply(x, 0.0)


def leaky_relu(x, negative_slope=0.01):
    return _LeakyReLU.apply(x, negative_slope)


def binary_step(x):
    return _Step.apply(x)


def softmax(z, dim=-1):
    return _Softmax.apply(z, dim)


def log_softmax(z, dim=-1):
    return _LogSoftmax.apply(z, dim)


def cross_entropy(logits, target):
    return _CrossEntropy.apply(logits, target)


def mse_loss(pred, target):
    return _MSE.apply(pred, target)


class BatchNorm1d:
    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) / torch.sqrt(
                self.running_var + self.eps
            ) * self.weight + self.bias
        n = x.shape[0]
        with torch.no_grad():
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        return _BatchNormTrain.apply(x, self.weight, self.bias, self.eps)
