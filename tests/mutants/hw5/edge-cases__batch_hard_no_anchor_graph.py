# ruff: noqa: F821
"""batch_hard_triplet_loss returns a fresh torch.tensor(0.0) when no anchor is valid: the value
is right, but loss.backward() on it raises in the caller's training loop."""

import torch

CHECK = "edge-cases/batch_hard-no-anchor-graph"
MESSAGE = "not attached to the autograd graph"


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    dist = torch.sqrt((diff * diff).sum(-1).clamp_min(1e-12))
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(n, dtype=torch.bool)
    negative = ~same
    valid = positive.any(1) & negative.any(1)
    if not bool(valid.any()):
        return torch.tensor(0.0, dtype=embeddings.dtype)
    d = dist[valid]
    hardest_positive = d.masked_fill(~positive[valid], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[valid], float("inf")).amin(1)
    return (hardest_positive - hardest_negative + margin).clamp_min(0).mean()
