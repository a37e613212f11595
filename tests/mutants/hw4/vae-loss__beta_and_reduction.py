# ruff: noqa: F821
"""vae_loss ignores reduction: always the mean over the batch."""

import math

CHECK = "vae-loss/beta-and-reduction"
MESSAGE = "reduction='sum'"


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        reconstruction = (_softplus(recon) - recon * x).reshape(n, -1).sum(1)
    else:
        d = recon[0].numel()
        squared = (x - recon) ** 2
        reconstruction = 0.5 * squared.reshape(n, -1).sum(1) + 0.5 * d * math.log(2 * math.pi)
    return (reconstruction + beta * _kl(mu, logvar).reshape(n, -1).sum(1)).mean()
