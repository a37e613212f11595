"""Homework 6: recommender systems (ALS and ranking metrics) -- an example submission.

This file shows what `autograder check hw6` reports for a submission with a few realistic
mistakes (each marked MISTAKE below): als_solve takes the number of rows from the data, so
trailing rows without a rating go missing (and als_fit with them); the loss history leaves out
the regularisation; the implicit half-step uses the implicit library's confidence convention
(alpha * value instead of 1 + alpha * value); NDCG normalises by k ranks whatever the number
of relevant items; ties are ranked by an ascending sort flipped. Everything else is correct.
"""

import math

import torch


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    k = fixed.shape[1]
    values = values.to(fixed.dtype)
    # MISTAKE: the number of rows comes from the data; rows after the last rated one vanish
    n_rows = int(rows.max()) + 1
    y = fixed[cols]
    a = torch.zeros(n_rows, k, k, dtype=fixed.dtype)
    a.index_add_(0, rows, y[:, :, None] * y[:, None, :])
    b = torch.zeros(n_rows, k, dtype=fixed.dtype).index_add_(0, rows, values[:, None] * y)
    counts = torch.bincount(rows, minlength=n_rows).to(fixed.dtype)
    lam = reg * counts if weighted else torch.full_like(counts, reg)
    a = a + lam[:, None, None] * torch.eye(k, dtype=fixed.dtype)
    out = torch.zeros(n_rows, k, dtype=fixed.dtype)
    seen = counts > 0
    out[seen] = torch.linalg.solve(a[seen], b[seen])
    return out


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    item_factors = init_item_factors.clone()
    user_factors = None
    history = []
    for _ in range(iterations):
        user_factors = als_solve(item_factors, users, items, ratings, n_users, reg, weighted)
        item_factors = als_solve(user_factors, items, users, ratings, n_items, reg, weighted)
        pred = (user_factors[users] * item_factors[items]).sum(1)
        # MISTAKE: the squared error alone; ALS minimises it plus the regularisation
        history.append(((ratings.to(pred.dtype) - pred) ** 2).sum())
    return user_factors, item_factors, torch.stack(history)


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    k = fixed.shape[1]
    # MISTAKE: confidence alpha * r (the implicit library's matrix value), not 1 + alpha * r
    confidence = alpha * values.to(fixed.dtype)
    y = fixed[cols]
    a = torch.zeros(n_rows, k, k, dtype=fixed.dtype)
    a.index_add_(0, rows, (confidence - 1.0)[:, None, None] * y[:, :, None] * y[:, None, :])
    a = a + fixed.T @ fixed + reg * torch.eye(k, dtype=fixed.dtype)
    b = torch.zeros(n_rows, k, dtype=fixed.dtype).index_add_(0, rows, confidence[:, None] * y)
    return torch.linalg.solve(a, b)


def rmse(pred, target):
    return torch.sqrt(((pred - target) ** 2).mean())


def _top(scores, relevant, k, exclude):
    if exclude is not None:
        scores = scores.masked_fill(exclude, -math.inf)
        relevant = relevant & ~exclude
    # MISTAKE: an ascending sort flipped ranks tied scores highest index first
    order = torch.argsort(scores, dim=1, stable=True).flip(1)[:, :k]
    hits = relevant.gather(1, order)
    if exclude is not None:
        hits = hits & ~exclude.gather(1, order)
    return hits, relevant.sum(1)


def _mean(per_user, n_relevant, dtype):
    users = n_relevant > 0
    if not users.any():
        return torch.tensor(float("nan"), dtype=dtype)
    return per_user[users].mean().to(dtype)


def precision_at_k(scores, relevant, k, exclude=None):
    hits, n_relevant = _top(scores, relevant, k, exclude)
    return _mean(hits.sum(1).to(scores.dtype) / k, n_relevant, scores.dtype)


def recall_at_k(scores, relevant, k, exclude=None):
    hits, n_relevant = _top(scores, relevant, k, exclude)
    per_user = hits.sum(1).to(scores.dtype) / n_relevant.clamp(min=1).to(scores.dtype)
    return _mean(per_user, n_relevant, scores.dtype)


def ndcg_at_k(scores, relevant, k, exclude=None):
    hits, n_relevant = _top(scores, relevant, k, exclude)
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=scores.dtype))
    dcg = (hits.to(scores.dtype) * discount[: hits.shape[1]]).sum(1)
    # MISTAKE: the ideal DCG of k hits; a user with fewer than k relevant items never gets 1
    return _mean(dcg / discount.sum(), n_relevant, scores.dtype)
