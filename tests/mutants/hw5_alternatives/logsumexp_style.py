"""The contrastive losses as -(positive logit - logsumexp of the row), the triplet distances as
(sum |x|^p)^(1/p) and the swap with torch.where, and the batch-hard distances from the expansion
|a|^2 + |b|^2 - 2 a.b with max/min over masked copies."""

import torch


def _norm(x):
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def nt_xent_loss(z1, z2, temperature=0.5):
    z = _norm(torch.cat([z1, z2]))
    n2 = z.shape[0]
    logits = (z @ z.T) / temperature
    logits = torch.where(
        torch.eye(n2, dtype=torch.bool), torch.full_like(logits, -torch.inf), logits
    )
    idx = torch.arange(n2)
    pos = logits[idx, (idx + n2 // 2) % n2]
    return (torch.logsumexp(logits, dim=1) - pos).mean()


def info_nce(query, positive, negatives=None, temperature=0.1):
    q, p = _norm(query), _norm(positive)
    pos = (q * p).sum(-1) / temperature
    others = q @ (p if negatives is None else _norm(negatives)).T / temperature
    if negatives is None:
        # the row already holds the positive on the diagonal
        return (torch.logsumexp(others, dim=1) - pos).mean()
    return (torch.logsumexp(torch.cat([pos[:, None], others], 1), dim=1) - pos).mean()


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    def dist(x, y):
        return ((x - y + eps).abs() ** p).sum(-1) ** (1 / p)

    d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_pn = dist(positive, negative)
        d_an = torch.where(d_pn < d_an, d_pn, d_an)
    return torch.relu(margin + d_ap - d_an).mean()


def batch_hard_triplet_loss(embeddings, labels, margin=0.3):
    sq = (embeddings**2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * embeddings @ embeddings.T
    dist = d2.clamp(min=1e-12).sqrt()
    n = len(labels)
    same = labels[:, None] == labels[None, :]
    pos_mask = same & ~torch.eye(n, dtype=torch.bool)
    neg_mask = ~same
    keep = pos_mask.any(1) & neg_mask.any(1)
    if not keep.any():
        return (embeddings * 0).sum()
    big = dist.detach().max() + 1
    hardest_pos = (dist - big * (~pos_mask)).max(dim=1).values
    hardest_neg = (dist + big * (~neg_mask)).min(dim=1).values
    return torch.relu(hardest_pos - hardest_neg + margin)[keep].mean()
