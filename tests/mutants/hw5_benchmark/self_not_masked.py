# ruff: noqa: F821
"""nt_xent_loss leaves each sample's similarity to itself in the softmax (1 / T, always the
largest logit)."""

import torch
import torch.nn.functional as F


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = _unit(torch.cat([z1, z2], dim=0))
    logits = z @ z.T / temperature
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, positives)
