# ruff: noqa: F821
"""nt_xent_loss ignores its temperature: the similarities are not divided by it (T = 1)."""

import torch
import torch.nn.functional as F


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = _unit(torch.cat([z1, z2], dim=0))
    logits = z @ z.T
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, positives)
