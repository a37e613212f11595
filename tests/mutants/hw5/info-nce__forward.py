# ruff: noqa: F821
"""info_nce squeezes its logits: with a single query they lose their batch dimension and the
cross-entropy no longer sees one row per query."""

import torch
import torch.nn.functional as F

CHECK = "info-nce/forward"
MESSAGE = "one query, one negative"


def info_nce(query, positive, negatives=None, temperature=0.1):
    q, p = _unit(query), _unit(positive)
    if negatives is None:
        logits = q @ p.T / temperature
        return F.cross_entropy(logits, torch.arange(q.shape[0]))
    k = _unit(negatives)
    logits = torch.cat([(q * p).sum(1, keepdim=True), q @ k.T], dim=1).squeeze() / temperature
    return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long))
