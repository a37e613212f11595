# ruff: noqa: F821
"""kaiming_normal_ uses the relu gain sqrt(2) for leaky_relu too, ignoring the slope a."""

import math

import torch

CHECK = "init/kaiming_normal"
MESSAGE = "leaky_relu a=0.5: standard deviation"


def kaiming_normal_(tensor, a=0, nonlinearity="relu", mode="fan_in"):
    fan_in, _ = _fans(tensor)
    gain = math.sqrt(2.0) if nonlinearity == "leaky_relu" else _gain(nonlinearity, a)
    with torch.no_grad():
        tensor.normal_(0.0, gain / math.sqrt(fan_in))
    return tensor
