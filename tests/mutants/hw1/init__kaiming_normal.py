# ruff: noqa: F821
"""kaiming_normal_ divides by fan_out instead of fan_in."""

import math

import torch

CHECK = "init/kaiming_normal"
MESSAGE = "256 x 512 (fan_in 512): standard deviation"


def kaiming_normal_(tensor, a=0, nonlinearity="relu", mode="fan_in"):
    fan_in, fan_out = _fans(tensor)
    std = _gain(nonlinearity, a) / math.sqrt(fan_out)
    with torch.no_grad():
        tensor.normal_(0.0, std)
    return tensor
