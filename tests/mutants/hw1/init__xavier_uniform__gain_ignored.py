# ruff: noqa: F821
"""xavier_uniform_ accepts gain but never uses it."""

import math

import torch

CHECK = "init/xavier_uniform"
MESSAGE = "gain 2: standard deviation"


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
