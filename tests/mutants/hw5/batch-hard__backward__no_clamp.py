# ruff: noqa: F821
"""batch_hard_triplet_loss takes the square root of the squared distances without clamping them:
every distance of an embedding to itself (and between two that coincide) is 0, and the gradient
of its square root 0 / 0 = NaN, even where the mask then drops it (the values differ from the
clamped ones by 1e-6 only)."""

import torch

CHECK = "batch-hard/backward"
MESSAGE = "gradient of argument 0: non-finite values (NaN)"


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    dist = torch.sqrt((diff * diff).sum(-1))
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(n, dtype=torch.bool)
    negative = ~same
    valid = positive.any(1) & negative.any(1)
    if not bool(valid.any()):
        return embeddings.sum() * 0.0
    d = dist[valid]
    hardest_positive = d.masked_fill(~positive[valid], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[valid], float("inf")).amin(1)
    return (hardest_positive - hardest_negative + margin).clamp_min(0).mean()
