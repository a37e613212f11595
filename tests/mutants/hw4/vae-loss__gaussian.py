# ruff: noqa: F821
"""vae_loss's Gaussian term leaves out the constant 0.5 * D * log(2 pi): gradients are right,
the value (a negative ELBO in nats) is not."""

CHECK = "vae-loss/gaussian"
MESSAGE = "output: 1 of 1 values differ"


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        reconstruction = (_softplus(recon) - recon * x).reshape(n, -1).sum(1)
    else:
        reconstruction = 0.5 * ((x - recon) ** 2).reshape(n, -1).sum(1)
    per_sample = reconstruction + beta * _kl(mu, logvar).reshape(n, -1).sum(1)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()
