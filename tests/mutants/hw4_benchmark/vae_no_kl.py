# ruff: noqa: F821
"""vae_loss drops the KL term: a plain autoencoder's loss, the posterior never meets the prior."""

import math


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        reconstruction = (_softplus(recon) - recon * x).reshape(n, -1).sum(1)
    else:
        d = recon[0].numel()
        reconstruction = 0.5 * ((x - recon) ** 2).reshape(n, -1).sum(1)
        reconstruction = reconstruction + 0.5 * d * math.log(2 * math.pi)
    return reconstruction.mean() if reduction == "mean" else reconstruction.sum()
