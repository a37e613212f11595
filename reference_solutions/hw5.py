"""Reference solution for Homework 5: representation learning, contrastive and metric losses.

Written from elementary tensor operations (and torch's cross-entropy, which no task forbids):
none of the built-ins or library losses the tasks ask students to reimplement is called (the
grader runs this file under the same forbidden-API guard as a submission). Staff only: never
ship this file to students.
"""

import torch
import torch.nn.functional as F


def _unit(x, eps=1e-12):
    # x / max(||x||, eps) row by row, like torch.nn.functional.normalize
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(eps)


# --- 1. Cosine similarity -------------------------------------------------------------------


def cosine_similarity_matrix(a, b, eps=1e-8):
    # each row's norm is clamped at eps on its own, as torch.nn.functional.cosine_similarity does
    # (not their product, as its documentation said until torch 1.12)
    return _unit(a, eps) @ _unit(b, eps).T


# --- 2. NT-Xent (SimCLR) --------------------------------------------------------------------


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = _unit(torch.cat([z1, z2], dim=0))
    logits = z @ z.T / temperature
    # a sample is not its own negative: its self-similarity leaves the softmax
    self_pairs = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_pairs, float("-inf"))
    # the positive of view i of sample k is the other view of sample k
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, positives)


# --- 3. InfoNCE -----------------------------------------------------------------------------


def info_nce(query, positive, negatives=None, temperature=0.1):
    q, p = _unit(query), _unit(positive)
    if negatives is None:
        # row i: its own positive against every other positive of the batch
        logits = q @ p.T / temperature
        target = torch.arange(q.shape[0], device=q.device)
    else:
        k = _unit(negatives)
        positive_logit = (q * p).sum(dim=1, keepdim=True)
        logits = torch.cat([positive_logit, q @ k.T], dim=1) / temperature
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, target)


# --- 4. Triplet margin loss -----------------------------------------------------------------


def _pairwise_distance(x1, x2, p, eps):
    # torch's pairwise_distance: the p-norm of x1 - x2 + eps along the last dimension
    return torch.linalg.vector_norm(x1 - x2 + eps, ord=p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    d_ap = _pairwise_distance(anchor, positive, p, eps)
    d_an = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = torch.minimum(d_an, _pairwise_distance(positive, negative, p, eps))
    return (margin + d_ap - d_an).clamp_min(0).mean()


# --- 5. Batch-hard triplet loss -------------------------------------------------------------


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    n = embeddings.shape[0]
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    # the clamp keeps the gradient finite where two embeddings coincide
    dist = torch.sqrt((diff * diff).sum(-1).clamp_min(1e-12))
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(n, dtype=torch.bool, device=embeddings.device)
    negative = ~same
    valid = positive.any(1) & negative.any(1)
    if not bool(valid.any()):
        # nothing to learn from, but the caller may still call backward()
        return embeddings.sum() * 0.0
    d = dist[valid]
    hardest_positive = d.masked_fill(~positive[valid], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[valid], float("inf")).amin(1)
    return (hardest_positive - hardest_negative + margin).clamp_min(0).mean()
