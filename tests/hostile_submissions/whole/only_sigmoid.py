"""Defines only sigmoid (correctly); every other symbol is missing."""

import torch


def sigmoid(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
