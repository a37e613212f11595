# ruff: noqa: F821
"""Without eps, reparameterize scales the noise by the variance exp(logvar), not the standard
deviation (with eps given it is right)."""

import torch

CHECK = "reparameterize/sampling"
MESSAGE = "standard deviation"


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        return mu + torch.exp(logvar) * torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps
