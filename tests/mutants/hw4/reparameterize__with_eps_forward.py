# ruff: noqa: F821
"""reparameterize works in float64 "for accuracy" and returns float64 for float32 inputs."""

import torch

CHECK = "reparameterize/with-eps-forward"
MESSAGE = "output: wrong dtype float64, expected float32"


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu.double() + torch.exp(0.5 * logvar.double()) * eps.double()
