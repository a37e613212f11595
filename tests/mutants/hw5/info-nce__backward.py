# ruff: noqa: F821
"""info_nce detaches the keys, as MoCo does for its momentum encoder's outputs: the loss is
right, but no gradient reaches the positives or the negatives."""

import torch
import torch.nn.functional as F

CHECK = "info-nce/backward"
MESSAGE = "gradient of argument 1"


def info_nce(query, positive, negatives=None, temperature=0.1):
    q, p = _unit(query), _unit(positive).detach()
    if negatives is None:
        logits = q @ p.T / temperature
        target = torch.arange(q.shape[0])
    else:
        k = _unit(negatives).detach()
        logits = torch.cat([(q * p).sum(1, keepdim=True), q @ k.T], dim=1) / temperature
        target = torch.zeros(q.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, target)
