"""An example Homework 1 submission with a few realistic mistakes (for the README's quick start).

What is wrong on purpose, and what the grader should say about it:
- tanh: the textbook formula overflows for large |x| (NaN at 1e4).
- softmax: no max subtraction, so logits of 1000 overflow; log_softmax takes log(softmax), so it
  is -inf far from the maximum; cross_entropy inherits that.
- LinearFunction.backward: the bias gradient averages over the batch instead of summing.
- kaiming_normal_: uses fan_out instead of fan_in.
- Dropout: forgets to rescale the kept activations by 1 / (1 - p).
- BatchNorm1d: updates running_var with the biased batch variance.
- Adam: no bias correction.
Everything else is correct, written in a different style from the reference.
"""

import math

import numpy as np
import torch
import torch.nn as nn


def sigmoid(x):
    pos = 1.0 / (1.0 + torch.exp(-x.abs()))
    return torch.where(x >= 0, pos, 1.0 - pos)


def tanh(x):
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


def relu(x):
    return x * (x > 0)


def leaky_relu(x, negative_slope=0.01):
    return torch.where(x > 0, x, negative_slope * x)


def binary_step(x):
    return torch.where(x >= 0, torch.ones_like(x), torch.zeros_like(x)).detach()


def softmax(z, dim=-1):
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(z, dim=-1):
    return torch.log(softmax(z, dim=dim))


def cross_entropy(logits, target):
    n = logits.shape[0]
    return -log_softmax(logits, dim=1)[torch.arange(n), target].sum() / n


def mse_loss(pred, target):
    diff = pred - target
    return (diff * diff).sum() / diff.numel()


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x.matmul(weight.T) + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output.matmul(weight), grad_output.T.matmul(x), grad_output.mean(dim=0)


class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        k = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.rand(out_features, in_features) * 2 * k - k)
        self.bias = nn.Parameter(torch.rand(out_features) * 2 * k - k)

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


def _fan_in_out(t):
    field = int(np.prod(t.shape[2:])) if t.dim() > 2 else 1
    return t.shape[1] * field, t.shape[0] * field


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _fan_in_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_(torch.rand(tensor.shape) * 2 * a - a)
    return tensor


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _fan_in_out(tensor)
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape) * gain * math.sqrt(2.0 / (fan_in + fan_out)))
    return tensor


def kaiming_normal_(tensor, a=0, nonlinearity="relu"):
    _, fan_out = _fan_in_out(tensor)
    gains = {
        "relu": math.sqrt(2.0),
        "leaky_relu": math.sqrt(2.0 / (1 + a * a)),
        "tanh": 5.0 / 3,
        "linear": 1.0,
        "sigmoid": 1.0,
    }
    with torch.no_grad():
        tensor.normal_(0, gains[nonlinearity] / math.sqrt(fan_out))
    return tensor


def l1_penalty(parameters):
    total = 0
    for p in parameters:
        total = total + p.abs().sum()
    return total


def l2_penalty(parameters):
    return torch.stack([p.pow(2).sum() for p in parameters]).sum()


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.training:
            return x * (torch.rand_like(x) > self.p)
        return x


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            mu = x.mean(dim=0)
            var = x.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var
        else:
            mu, var = self.running_mean, self.running_var
        return self.weight * (x - mu) / torch.sqrt(var + self.eps) + self.bias


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def step(self):
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad + group["weight_decay"] * p
                    if group["momentum"] > 0:
                        v = self.state[p].get("v")
                        v = g.clone() if v is None else group["momentum"] * v + g
                        self.state[p]["v"] = v
                        g = v
                    p -= group["lr"] * g


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(
            params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )

    def step(self):
        with torch.no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad + group["weight_decay"] * p
                    s = self.state[p]
                    s["m"] = beta1 * s.get("m", torch.zeros_like(p)) + (1 - beta1) * g
                    s["v"] = beta2 * s.get("v", torch.zeros_like(p)) + (1 - beta2) * g * g
                    p -= group["lr"] * s["m"] / (s["v"].sqrt() + group["eps"])


def clip_grad_norm_(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g.mul_(factor)
    return total
