# ruff: noqa: F821
"""nt_xent_loss defaults to temperature 1.0 (no temperature at all) instead of SimCLR's and
lightly's 0.5: right whenever the caller passes a temperature, wrong when it relies on the
default."""

import torch
import torch.nn.functional as F

CHECK = "nt-xent/forward"
MESSAGE = "input randn(8, 16), randn(8, 16): output: 1 of 1 values differ"


def nt_xent_loss(z1, z2, temperature=1.0):
    n = z1.shape[0]
    z = _unit(torch.cat([z1, z2], dim=0))
    logits = z @ z.T / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, positives)
