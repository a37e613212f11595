# ruff: noqa: F821
"""xavier_normal_ uses the uniform bound as the standard deviation: sqrt(6 / (fan_in + fan_out))."""

import math

import torch

CHECK = "init/xavier_normal"
MESSAGE = "256 x 512: standard deviation"


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
