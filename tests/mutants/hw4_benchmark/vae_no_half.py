# ruff: noqa: F821
"""reparameterize scales the noise by exp(logvar), the variance, instead of exp(0.5 * logvar)."""

import torch


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(logvar) * eps
