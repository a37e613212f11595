"""Reference solution for Homework 6: recommender systems, ALS and ranking metrics.

Ratings arrive as COO triplets (``rows``, ``cols``, ``values``: one observation per distinct
(row, col) pair). Every half-step builds each row's k x k normal equations from its own entries
only (index_add_ over the entries, in chunks: never a dense n_rows x n_cols matrix) and solves
them all at once. Staff only: never ship this file to students.

Each graded function computes what it needs itself (the private helpers below are shared), so a
mistake in one function costs only that function's checks.
"""

import math

import torch

# --- helpers ----------------------------------------------------------------------------------

# entries per chunk of outer products: about 4M numbers, whatever k is
_CHUNK_NUMBERS = 1 << 22


def _gram(fixed, rows, cols, weights, n_rows):
    # [n_rows, k, k]: for each row r, the sum over r's entries e of weights[e] * y y^T, where
    # y = fixed[cols[e]]
    k = fixed.shape[1]
    out = torch.zeros(n_rows, k * k, dtype=fixed.dtype)
    step = max(1, _CHUNK_NUMBERS // (k * k))
    for start in range(0, rows.shape[0], step):
        y = fixed[cols[start : start + step]]
        w = weights[start : start + step]
        outer = (w[:, None, None] * y[:, :, None] * y[:, None, :]).reshape(-1, k * k)
        out.index_add_(0, rows[start : start + step], outer)
    return out.reshape(n_rows, k, k)


def _rhs(fixed, rows, cols, weights, n_rows):
    # [n_rows, k]: for each row r, the sum over r's entries e of weights[e] * fixed[cols[e]]
    out = torch.zeros(n_rows, fixed.shape[1], dtype=fixed.dtype)
    return out.index_add_(0, rows, weights[:, None] * fixed[cols])


def _explicit(fixed, rows, cols, values, n_rows, reg, weighted):
    # (Y_r^T Y_r + lambda_r I) x_r = Y_r^T v_r for every row with an entry; zeros elsewhere
    dtype, k = fixed.dtype, fixed.shape[1]
    values = values.to(dtype)
    counts = torch.bincount(rows, minlength=n_rows)[:n_rows]
    lam = reg * counts.to(dtype) if weighted else torch.full((n_rows,), float(reg), dtype=dtype)
    a = _gram(fixed, rows, cols, torch.ones_like(values), n_rows)
    a = a + lam[:, None, None] * torch.eye(k, dtype=dtype)
    b = _rhs(fixed, rows, cols, values, n_rows)
    x = torch.zeros(n_rows, k, dtype=dtype)
    seen = counts > 0
    if bool(seen.any()):
        x[seen] = torch.linalg.solve(a[seen], b[seen])
    return x


def _implicit(fixed, rows, cols, values, n_rows, reg, alpha):
    # Hu, Koren and Volinsky (2008): c = 1 + alpha * v and p = 1 on the entries, c = 1 and p = 0
    # everywhere else. Y^T C_r Y = Y^T Y + Y^T (C_r - I) Y, where C_r - I is zero off r's entries.
    dtype, k = fixed.dtype, fixed.shape[1]
    extra = alpha * values.to(dtype)
    a = fixed.T @ fixed + reg * torch.eye(k, dtype=dtype)
    a = a + _gram(fixed, rows, cols, extra, n_rows)
    b = _rhs(fixed, rows, cols, 1.0 + extra, n_rows)
    return torch.linalg.solve(a, b)


def _loss(user_factors, item_factors, users, items, ratings, reg, weighted):
    # squared error over the observed entries + the regularisation the half-steps minimise
    pred = (user_factors[users] * item_factors[items]).sum(1)
    error = ((ratings.to(pred.dtype) - pred) ** 2).sum()
    u_norms = (user_factors**2).sum(1)
    i_norms = (item_factors**2).sum(1)
    if weighted:
        u_norms = u_norms * torch.bincount(users, minlength=user_factors.shape[0]).to(pred.dtype)
        i_norms = i_norms * torch.bincount(items, minlength=item_factors.shape[0]).to(pred.dtype)
    return error + reg * (u_norms.sum() + i_norms.sum())


def _ranked_hits(scores, relevant, k, exclude):
    # [U, min(k, I)] bool: is the item at each rank relevant? Highest score first, ties by the
    # lower item index (a stable sort keeps equal scores in item order); excluded items are
    # pushed below every other item and never count as hits
    s = scores if exclude is None else scores.masked_fill(exclude, -math.inf)
    top = torch.sort(s, dim=1, descending=True, stable=True).indices[:, :k]
    hits = relevant.gather(1, top)
    if exclude is not None:
        hits = hits & ~exclude.gather(1, top)
    return hits


def _n_relevant(relevant, exclude):
    return (relevant if exclude is None else relevant & ~exclude).sum(1)


def _mean_over_users(per_user, counted, dtype):
    # users without a relevant item are left out; no user left: NaN
    if not bool(counted.any()):
        return torch.tensor(math.nan, dtype=dtype)
    return per_user[counted].mean().to(dtype)


# --- 1. ALS, one half-step --------------------------------------------------------------------


def als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False):
    return _explicit(fixed, rows, cols, values, n_rows, reg, weighted)


# --- 2. ALS, the whole fit ----------------------------------------------------------------------


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    item_factors = init_item_factors.clone()
    dtype = item_factors.dtype
    user_factors = torch.zeros(n_users, item_factors.shape[1], dtype=dtype)
    history = []
    for _ in range(iterations):
        user_factors = _explicit(item_factors, users, items, ratings, n_users, reg, weighted)
        item_factors = _explicit(user_factors, items, users, ratings, n_items, reg, weighted)
        history.append(_loss(user_factors, item_factors, users, items, ratings, reg, weighted))
    loss_history = torch.stack(history) if history else torch.zeros(0, dtype=dtype)
    return user_factors, item_factors, loss_history


# --- 3. Implicit ALS, one half-step -------------------------------------------------------------


def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):
    return _implicit(fixed, rows, cols, values, n_rows, reg, alpha)


# --- 4. Metrics ---------------------------------------------------------------------------------


def rmse(pred, target):
    return torch.sqrt(((pred - target) ** 2).mean())


def precision_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, exclude).sum(1).to(scores.dtype)
    return _mean_over_users(hits / k, _n_relevant(relevant, exclude) > 0, scores.dtype)


def recall_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, exclude).sum(1).to(scores.dtype)
    n_relevant = _n_relevant(relevant, exclude)
    per_user = hits / n_relevant.clamp_min(1).to(scores.dtype)
    return _mean_over_users(per_user, n_relevant > 0, scores.dtype)


def ndcg_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, exclude).to(scores.dtype)
    ranks = torch.arange(1, k + 1, dtype=scores.dtype)
    discount = 1.0 / torch.log2(ranks + 1.0)
    dcg = (hits * discount[: hits.shape[1]]).sum(1)
    n_relevant = _n_relevant(relevant, exclude)
    # the ideal ranking puts min(k, |relevant|) hits first
    ideal = torch.cumsum(discount, 0)[n_relevant.clamp(1, k) - 1]
    return _mean_over_users(dcg / ideal, n_relevant > 0, scores.dtype)
