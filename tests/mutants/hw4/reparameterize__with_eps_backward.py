# ruff: noqa: F821
"""reparameterize treats the noise scale as a constant (std from logvar.detach()): the values
are right, but no gradient reaches logvar, so the encoder never learns its variance."""

import torch

CHECK = "reparameterize/with-eps-backward"
MESSAGE = "gradient of argument 1"


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar.detach()) * eps
