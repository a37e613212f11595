# ruff: noqa: F821
"""reparameterize draws its Gaussian noise by the Box-Muller transform of two uniform draws: a
different stream of values from the same N(0, 1), so only the distribution tests can judge it."""

import math

import torch


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        u1 = torch.rand_like(mu).clamp_min(1e-12)
        u2 = torch.rand_like(mu)
        eps = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)
    return mu + torch.exp(0.5 * logvar) * eps
