# ruff: noqa: F821
"""batch_hard_triplet_loss averages with keepdim=True: a tensor of shape (1,), not a 0-d one."""

import torch

CHECK = "batch-hard/forward"
MESSAGE = "output: wrong shape (1,) != ()"


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    dist = torch.sqrt((diff * diff).sum(-1).clamp_min(1e-12))
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(n, dtype=torch.bool)
    negative = ~same
    valid = positive.any(1) & negative.any(1)
    if not bool(valid.any()):
        return embeddings.sum() * 0.0
    d = dist[valid]
    hardest_positive = d.masked_fill(~positive[valid], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[valid], float("inf")).amin(1)
    return (hardest_positive - hardest_negative + margin).clamp_min(0).mean(0, keepdim=True)
