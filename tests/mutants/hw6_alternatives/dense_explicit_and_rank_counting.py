"""Correct, in another style: explicit ALS from a dense observation mask (allowed: only the
implicit half-step must stay sparse) with torch.linalg.lstsq on each row's stacked ridge
system, the implicit correction by torch.sparse, and ranks by counting, for each item, the
items that beat it (a higher score, or the same score and a lower index)."""

import math

import torch


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    m, k = fixed.shape
    observed = torch.zeros(n_rows, m, dtype=fixed.dtype)
    observed[rows, cols] = 1.0
    target = torch.zeros(n_rows, m, dtype=fixed.dtype)
    target[rows, cols] = values.to(fixed.dtype)
    counts = observed.sum(1)
    lam = reg * counts if weighted else torch.full_like(counts, float(reg))
    out = torch.zeros(n_rows, k, dtype=fixed.dtype)
    for r in torch.nonzero(counts).flatten().tolist():
        mine = observed[r] > 0
        a = torch.cat([fixed[mine], math.sqrt(float(lam[r])) * torch.eye(k, dtype=fixed.dtype)])
        b = torch.cat([target[r][mine], torch.zeros(k, dtype=fixed.dtype)])
        out[r] = torch.linalg.lstsq(a, b[:, None], driver="gelsd").solution[:, 0]
    return out


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    v = init_item_factors.clone()
    u = torch.zeros(n_users, v.shape[1], dtype=v.dtype)
    history = torch.zeros(iterations, dtype=v.dtype)
    r = ratings.to(v.dtype)
    for t in range(iterations):
        u = als_solve(v, users, items, r, n_users, reg, weighted)
        v = als_solve(u, items, users, r, n_items, reg, weighted)
        pred = (u[users] * v[items]).sum(-1)
        wu = torch.bincount(users, minlength=n_users).to(v.dtype) if weighted else 1.0
        wi = torch.bincount(items, minlength=n_items).to(v.dtype) if weighted else 1.0
        reg_term = (wu * (u * u).sum(-1)).sum() + (wi * (v * v).sum(-1)).sum()
        history[t] = ((r - pred) ** 2).sum() + reg * reg_term
    return u, v, history


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    m, k = fixed.shape
    extra = alpha * values.to(fixed.dtype)
    outer = torch.einsum("mi,mj->mij", fixed, fixed).reshape(m, k * k)
    weights = torch.sparse_coo_tensor(torch.stack([rows, cols]), extra, (n_rows, m))
    ones = torch.sparse_coo_tensor(torch.stack([rows, cols]), 1.0 + extra, (n_rows, m))
    a = (fixed.T @ fixed + reg * torch.eye(k, dtype=fixed.dtype)) + torch.sparse.mm(
        weights, outer
    ).reshape(n_rows, k, k)
    b = torch.sparse.mm(ones, fixed)
    return torch.linalg.solve(a, b)


def rmse(pred, target):
    return torch.linalg.vector_norm(pred - target) / math.sqrt(pred.numel())


def _hits(scores, relevant, k, exclude):
    # rank of item j = items not excluded that score higher, or the same with a lower index
    keep = torch.ones_like(relevant) if exclude is None else ~exclude
    s = scores[:, None, :]  # [U, 1, I]: the competitors i
    t = scores[:, :, None]  # [U, I, 1]: the item j
    idx = torch.arange(scores.shape[1])
    beats = (s > t) | ((s == t) & (idx[None, None, :] < idx[None, :, None]))
    rank = (beats & keep[:, None, :]).sum(-1)  # 0-based
    in_top = (rank < k) & keep
    return relevant & in_top, rank


def _users(per_user, n_rel, dtype):
    counted = n_rel > 0
    if int(counted.sum()) == 0:
        return torch.tensor(float("nan"), dtype=dtype)
    return (per_user * counted).sum() / counted.sum()


def _n_rel(relevant, exclude):
    return (relevant & (torch.ones_like(relevant) if exclude is None else ~exclude)).sum(1)


def precision_at_k(scores, relevant, k, exclude=None):
    hits, _ = _hits(scores, relevant, k, exclude)
    return _users(hits.sum(1).to(scores.dtype) / k, _n_rel(relevant, exclude), scores.dtype)


def recall_at_k(scores, relevant, k, exclude=None):
    hits, _ = _hits(scores, relevant, k, exclude)
    n_rel = _n_rel(relevant, exclude)
    per_user = hits.sum(1).to(scores.dtype) / n_rel.clamp(min=1).to(scores.dtype)
    return _users(per_user, n_rel, scores.dtype)


def ndcg_at_k(scores, relevant, k, exclude=None):
    hits, rank = _hits(scores, relevant, k, exclude)
    gain = torch.where(hits, 1.0 / torch.log2(rank.to(scores.dtype) + 2.0), 0.0)
    n_rel = _n_rel(relevant, exclude)
    best = (
        torch.stack(
            [
                (1.0 / torch.log2(torch.arange(int(min(k, n)), dtype=scores.dtype) + 2.0)).sum()
                for n in n_rel.tolist()
            ]
        )
        if n_rel.numel()
        else torch.zeros(0, dtype=scores.dtype)
    )
    per_user = gain.sum(1).to(scores.dtype) / best.clamp(min=1e-300)
    return _users(per_user, n_rel, scores.dtype)
