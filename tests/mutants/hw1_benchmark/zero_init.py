# ruff: noqa: F821
"""Both initialisers fill zeros: every hidden unit starts (and stays) identical."""

import torch


def xavier_uniform_(tensor, gain=1.0):
    with torch.no_grad():
        tensor.zero_()
    return tensor


def kaiming_normal_(tensor, a=0, nonlinearity="relu"):
    with torch.no_grad():
        tensor.zero_()
    return tensor
