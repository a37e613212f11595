"""Correct, written row by row: a Python loop over the rows with a Cholesky solve each, the
implicit correction from each row's own entries (Y^T Y computed once), and the metrics user by
user with Python's sorted (score descending, then item index)."""

import math

import torch


def _row_solve(a, b):
    chol = torch.linalg.cholesky(a)
    return torch.cholesky_solve(b[:, None], chol)[:, 0]


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    k = fixed.shape[1]
    values = values.to(fixed.dtype)
    out = torch.zeros(n_rows, k, dtype=fixed.dtype)
    order = torch.argsort(rows, stable=True)
    rows, cols, values = rows[order], cols[order], values[order]
    counts = torch.bincount(rows, minlength=n_rows).tolist()
    start = 0
    for r in range(n_rows):
        n = counts[r]
        if n == 0:
            continue
        y = fixed[cols[start : start + n]]
        lam = reg * n if weighted else reg
        a = y.T @ y + lam * torch.eye(k, dtype=fixed.dtype)
        out[r] = _row_solve(a, y.T @ values[start : start + n])
        start += n
    return out


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    v = init_item_factors.clone()
    u = torch.zeros(n_users, v.shape[1], dtype=v.dtype)
    r = ratings.to(v.dtype)
    n_u = torch.bincount(users, minlength=n_users).to(v.dtype)
    n_i = torch.bincount(items, minlength=n_items).to(v.dtype)
    losses = []
    for _ in range(iterations):
        u = als_solve(v, users, items, r, n_users, reg, weighted)
        v = als_solve(u, items, users, r, n_items, reg, weighted)
        err = r - torch.einsum("nk,nk->n", u[users], v[items])
        wu = n_u if weighted else torch.ones_like(n_u)
        wi = n_i if weighted else torch.ones_like(n_i)
        penalty = (wu * u.pow(2).sum(1)).sum() + (wi * v.pow(2).sum(1)).sum()
        losses.append(err.pow(2).sum() + reg * penalty)
    return u, v, torch.stack(losses) if losses else torch.zeros(0, dtype=v.dtype)


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    k = fixed.shape[1]
    values = values.to(fixed.dtype)
    base = fixed.T @ fixed + reg * torch.eye(k, dtype=fixed.dtype)
    out = torch.zeros(n_rows, k, dtype=fixed.dtype)
    order = torch.argsort(rows, stable=True)
    rows, cols, values = rows[order], cols[order], values[order]
    counts = torch.bincount(rows, minlength=n_rows).tolist()
    start = 0
    for r in range(n_rows):
        n = counts[r]
        if n == 0:
            continue
        y = fixed[cols[start : start + n]]
        c = 1.0 + alpha * values[start : start + n]
        a = base + (y.T * (c - 1.0)) @ y
        out[r] = _row_solve(a, y.T @ c)
        start += n
    return out


def rmse(pred, target):
    return ((pred - target) ** 2).sum().div(pred.numel()).sqrt()


def _per_user(scores, relevant, k, exclude, score_user):
    values = []
    for u in range(scores.shape[0]):
        rel = relevant[u].tolist()
        exc = exclude[u].tolist() if exclude is not None else [False] * len(rel)
        wanted = [j for j in range(len(rel)) if rel[j] and not exc[j]]
        if not wanted:
            continue
        s = scores[u].tolist()
        ranked = sorted((j for j in range(len(s)) if not exc[j]), key=lambda j: (-s[j], j))
        values.append(score_user([rel[j] for j in ranked[:k]], len(wanted)))
    if not values:
        return torch.tensor(math.nan, dtype=scores.dtype)
    return torch.tensor(sum(values) / len(values), dtype=scores.dtype)


def precision_at_k(scores, relevant, k, exclude=None):
    return _per_user(scores, relevant, k, exclude, lambda hits, n: sum(hits) / k)


def recall_at_k(scores, relevant, k, exclude=None):
    return _per_user(scores, relevant, k, exclude, lambda hits, n: sum(hits) / n)


def ndcg_at_k(scores, relevant, k, exclude=None):
    def ndcg(hits, n):
        dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
        return dcg / sum(1.0 / math.log2(i + 2) for i in range(min(k, n)))

    return _per_user(scores, relevant, k, exclude, ndcg)
