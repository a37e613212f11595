# ruff: noqa: F821
"""vae_loss computes the KL term from mu.data and logvar.data, so the KL never trains the
encoder (the values are right)."""

import math

CHECK = "vae-loss/backward"
MESSAGE = "gradient of argument 2"


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        reconstruction = (_softplus(recon) - recon * x).reshape(n, -1).sum(1)
    else:
        d = recon[0].numel()
        squared = (x - recon) ** 2
        reconstruction = 0.5 * squared.reshape(n, -1).sum(1) + 0.5 * d * math.log(2 * math.pi)
    per_sample = reconstruction + beta * _kl(mu.data, logvar.data).reshape(n, -1).sum(1)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()
