"""Each activation returns something malformed: a list, the wrong shape, the wrong dtype, NaN,
None. Each fails with its own message; the other tasks are untouched."""

import torch


def sigmoid(x):
    return x.tolist()


def tanh(x):
    return x[..., :1]


def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x)).to(torch.float16)


def leaky_relu(x, negative_slope=0.01):
    return x * float("nan")


def binary_step(x):
    return None
