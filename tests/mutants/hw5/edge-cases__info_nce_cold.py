# ruff: noqa: F821
"""info_nce as the textbook fraction of exponentials, without the log-sum-exp shift: at
temperature 0.005 exp(200) overflows and the loss is NaN."""

import torch

CHECK = "edge-cases/info_nce-cold"
MESSAGE = "non-finite"


def info_nce(query, positive, negatives=None, temperature=0.1):
    q, p = _unit(query), _unit(positive)
    if negatives is None:
        e = torch.exp(q @ p.T / temperature)
        return -torch.log(e.diagonal() / e.sum(dim=1)).mean()
    k = _unit(negatives)
    pos = torch.exp((q * p).sum(dim=1) / temperature)
    neg = torch.exp(q @ k.T / temperature).sum(dim=1)
    return -torch.log(pos / (pos + neg)).mean()
