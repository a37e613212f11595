# ruff: noqa: F821
"""kl_std_normal computes the variance term from logvar.data: right values, but that term
sends no gradient to logvar."""

import torch

CHECK = "kl/backward"
MESSAGE = "gradient of argument 1"


def kl_std_normal(mu, logvar):
    return 0.5 * (mu * mu + torch.exp(logvar.data) - 1.0 - logvar).sum(-1)
