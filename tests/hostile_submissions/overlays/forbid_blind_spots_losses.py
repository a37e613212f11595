"""Module-level statements the scan used to skip: a try block and a with block bind the
aliases that softmax and log_softmax call. Each alias is attributed to the functions that use
it (cross_entropy uses log_softmax); mse_loss calls nothing forbidden and keeps its points."""

import torch

try:
    _soft = torch.softmax
except AttributeError:
    _soft = None

with torch.no_grad():
    _log_soft = torch.log_softmax


def softmax(z, dim=-1):
    return _soft(z, dim)


def log_softmax(z, dim=-1):
    return _log_soft(z, dim)
