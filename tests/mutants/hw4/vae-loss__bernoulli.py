# ruff: noqa: F821
"""vae_loss's Bernoulli term is the textbook -[x log sigmoid(z) + (1 - x) log(1 - sigmoid(z))]:
right for moderate logits, infinite or NaN for logits of +-88 and beyond."""

import math

import torch

CHECK = "vae-loss/bernoulli"
MESSAGE = "logits of +-1e4, +-88, +-20 and 0: output: non-finite values"


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        p = torch.sigmoid(recon)
        per_feature = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))
        reconstruction = per_feature.reshape(n, -1).sum(1)
    else:
        d = recon[0].numel()
        squared = (x - recon) ** 2
        reconstruction = 0.5 * squared.reshape(n, -1).sum(1) + 0.5 * d * math.log(2 * math.pi)
    per_sample = reconstruction + beta * _kl(mu, logvar).reshape(n, -1).sum(1)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()
