# ruff: noqa: F821
"""xavier_uniform_ uses fan_in only: bound sqrt(6 / fan_in) instead of sqrt(6 / (fan_in + fan_out))."""

import math

import torch

CHECK = "init/xavier_uniform"
MESSAGE = "256 x 512: standard deviation"


def xavier_uniform_(tensor, gain=1.0):
    fan_in, _ = _fans(tensor)
    bound = gain * math.sqrt(6.0 / fan_in)
    with torch.no_grad():
        tensor.uniform_(-bound, bound)
    return tensor
