# ruff: noqa: F821
"""batch_hard_triplet_loss averages over the valid anchors without checking there are any: the
mean of nothing is NaN."""

import torch

CHECK = "edge-cases/batch_hard-no-anchor"
MESSAGE = "NaN"


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    dist = torch.sqrt((diff * diff).sum(-1).clamp_min(1e-12))
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(n, dtype=torch.bool)
    negative = ~same
    valid = positive.any(1) & negative.any(1)
    d = dist[valid]
    hardest_positive = d.masked_fill(~positive[valid], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[valid], float("inf")).amin(1)
    return (hardest_positive - hardest_negative + margin).clamp_min(0).mean()
