# ruff: noqa: F821
"""nt_xent_loss normalises the embeddings by a detached norm: the loss is right, but its
gradient ignores that the norm depends on the embedding."""

import torch
import torch.nn.functional as F

CHECK = "nt-xent/backward"
MESSAGE = "gradient of argument 0"


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    z = z / torch.linalg.vector_norm(z, dim=1, keepdim=True).detach()
    logits = z @ z.T / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, positives)
