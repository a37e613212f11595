# ruff: noqa: F821
"""Correct, in another style: every random symbol draws from torch's stream differently from the
reference. Uniforms from torch.rand, normals from torch.randn or Box-Muller, a dropout mask from
torch.rand_like with the comparison the other way round, and for high rates an exact-count mask
from torch.randperm (no Bernoulli draws at all). Sigmoid goes through tanh."""

import math

import torch
from torch import nn


def sigmoid(x):
    return 0.5 * (1 + tanh(x / 2))


def binary_step(x):
    return torch.where(x >= 0, 1.0, 0.0).to(x.dtype)


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_((torch.rand(tensor.shape, dtype=torch.float64) * 2 - 1) * bound)
    return tensor


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.copy_(torch.randn(tensor.shape) * std)
    return tensor


def kaiming_normal_(tensor, a=0, nonlinearity="relu"):
    fan_in, _ = _fans(tensor)
    std = _gain(nonlinearity, a) / math.sqrt(fan_in)
    u1 = 1 - torch.rand(tensor.shape, dtype=torch.float64)  # in (0, 1]: log is finite
    u2 = torch.rand(tensor.shape, dtype=torch.float64)
    z = torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)
    with torch.no_grad():
        tensor.copy_(z * std)
    return tensor


class Linear:
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter((torch.rand(out_features, in_features) * 2 - 1) * bound)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None


class Dropout:
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p > 0.5:
            # exactly round(p * n) zeros at positions chosen by a random permutation
            n = x.numel()
            keep = torch.ones(n, dtype=x.dtype)
            keep[torch.randperm(n)[: round(self.p * n)]] = 0
            keep = keep.view(x.shape)
        else:
            keep = (1 - self.p > torch.rand_like(x)).to(x.dtype)
        return x * keep / (1 - self.p)
