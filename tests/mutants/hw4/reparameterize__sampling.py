# ruff: noqa: F821
"""Without eps, reparameterize draws uniform noise (torch.rand_like) instead of Gaussian."""

import torch

CHECK = "reparameterize/sampling"
MESSAGE = "of the last dimension: mean"


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.rand_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps
