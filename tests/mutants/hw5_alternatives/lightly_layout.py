"""The logits laid out as lightly's NTXentLoss lays them out (the other view's similarities
first, then the own view's with the diagonal removed, not masked), InfoNCE with the positive
written into column 0 of a [N, N] matrix, and the cosine matrix by broadcasting."""

import torch
import torch.nn.functional as F


def cosine_similarity_matrix(a, b, eps=1e-8):
    na = a.norm(dim=-1).clamp(min=eps)
    nb = b.norm(dim=-1).clamp(min=eps)
    return ((a[:, None, :] / na[:, None, None]) * (b[None, :, :] / nb[None, :, None])).sum(-1)


def nt_xent_loss(z1, z2, temperature=0.5):
    n = z1.shape[0]
    a = F.normalize(z1, dim=1)
    b = F.normalize(z2, dim=1)
    off = ~torch.eye(n, dtype=torch.bool)
    l_ab = a @ b.T / temperature
    l_ba = b @ a.T / temperature
    l_aa = (a @ a.T / temperature)[off].view(n, n - 1)
    l_bb = (b @ b.T / temperature)[off].view(n, n - 1)
    logits = torch.cat([torch.cat([l_ab, l_aa], 1), torch.cat([l_ba, l_bb], 1)], 0)
    return F.cross_entropy(logits, torch.arange(n).repeat(2))


def info_nce(query, positive, negatives=None, temperature=0.1):
    q = F.normalize(query, dim=-1)
    p = F.normalize(positive, dim=-1)
    if negatives is None:
        sims = q @ p.T
        n = sims.shape[0]
        # column 0: the positive; then the others in their order
        others = sims[~torch.eye(n, dtype=torch.bool)].view(n, n - 1)
        logits = torch.cat([sims.diagonal()[:, None], others], dim=1)
    else:
        logits = torch.cat([(q * p).sum(-1, keepdim=True), q @ F.normalize(negatives, dim=-1).T], 1)
    return F.cross_entropy(logits / temperature, torch.zeros(len(q), dtype=torch.long))
