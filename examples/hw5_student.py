"""An example Homework 5 submission with a few realistic mistakes.

What is wrong on purpose, and what the grader should say about it:
- cosine_similarity_matrix: clamps the product of the two norms at eps (the formula torch's
  documentation gave until 1.12) instead of each norm, so rows shorter than eps come out wrong.
- nt_xent_loss: ignores its temperature argument and always uses 0.5, so every case with another
  temperature is wrong; the benchmark's encoder (meant to train at 0.1) learns a little less,
  within the benchmark's tolerance (92.6% against the reference's 93.3%).
- triplet_margin_loss: measures |x1 - x2| without torch's eps inside the norm, visible once eps
  is 0.1.
Everything else is correct, written in a different style from the reference.
"""

import torch
import torch.nn.functional as F


def cosine_similarity_matrix(a, b, eps=1e-8):
    dots = a @ b.T
    norms = a.norm(dim=1, keepdim=True) * b.norm(dim=1, keepdim=True).T
    return dots / torch.clamp(norms, min=eps)


def nt_xent_loss(z1, z2, temperature=0.5):
    z = torch.cat([z1, z2])
    z = z / z.norm(dim=1, keepdim=True)
    sim = z @ z.T / 0.5
    n = z1.shape[0]
    sim = sim - 1e9 * torch.eye(2 * n, dtype=sim.dtype)
    target = (torch.arange(2 * n) + n) % (2 * n)
    return F.cross_entropy(sim, target)


def info_nce(query, positive, negatives=None, temperature=0.1):
    query = query / query.norm(dim=1, keepdim=True)
    positive = positive / positive.norm(dim=1, keepdim=True)
    if negatives is None:
        negatives_logits = query @ positive.T
        logits = negatives_logits / temperature
        return F.cross_entropy(logits, torch.arange(len(query)))
    pos = torch.einsum("nd,nd->n", query, positive)[:, None]
    neg = query @ (negatives / negatives.norm(dim=1, keepdim=True)).T
    logits = torch.cat([pos, neg], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(query), dtype=torch.long))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    def dist(x, y):
        return ((x - y).abs() ** p).sum(dim=-1) ** (1.0 / p)

    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = torch.min(d_neg, dist(positive, negative))
    return torch.relu(d_pos - d_neg + margin).mean()


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    squared = ((embeddings[:, None] - embeddings[None]) ** 2).sum(-1)
    dist = squared.clamp(min=1e-12).sqrt()
    same = labels[:, None] == labels[None]
    others = ~torch.eye(len(labels), dtype=torch.bool)
    has_pos = (same & others).any(dim=1)
    has_neg = (~same).any(dim=1)
    keep = has_pos & has_neg
    if keep.sum() == 0:
        return embeddings.sum() * 0
    hardest_pos = torch.where(same & others, dist, torch.full_like(dist, -1.0)).max(dim=1).values
    hardest_neg = torch.where(same, torch.full_like(dist, float("inf")), dist).min(dim=1).values
    return torch.relu(hardest_pos - hardest_neg + margin)[keep].mean()
