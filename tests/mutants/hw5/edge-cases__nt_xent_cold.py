# ruff: noqa: F821
"""nt_xent_loss as the textbook fraction exp(sim_pos / T) / sum(exp(sim / T)), without the
log-sum-exp shift: at temperature 0.01 exp(100) overflows float32 and the loss is NaN."""

import torch

CHECK = "edge-cases/nt_xent-cold"
MESSAGE = "non-finite"


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = _unit(torch.cat([z1, z2], dim=0))
    e = torch.exp(z @ z.T / temperature) * (1 - torch.eye(2 * n, dtype=z.dtype))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    p = e[torch.arange(2 * n), positives] / e.sum(dim=1)
    return -torch.log(p).mean()
