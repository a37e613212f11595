# ruff: noqa: F821
"""The ranking as an ascending argsort flipped: tied scores come out highest index first."""

CHECK = "edge-cases/ndcg-ties"
MESSAGE = "values differ"


def ndcg_at_k(scores, relevant, k, exclude=None):
    s = scores if exclude is None else scores.masked_fill(exclude, -math.inf)
    top = torch.argsort(s, dim=1, stable=True).flip(1)[:, :k]
    hits = relevant.gather(1, top)
    if exclude is not None:
        hits = hits & ~exclude.gather(1, top)
    hits = hits.to(scores.dtype)
    discount = 1.0 / torch.log2(torch.arange(1, k + 1, dtype=scores.dtype) + 1.0)
    dcg = (hits * discount[: hits.shape[1]]).sum(1)
    n_relevant = _n_relevant(relevant, exclude)
    ideal = torch.cumsum(discount, 0)[n_relevant.clamp(1, k) - 1]
    return _mean_over_users(dcg / ideal, n_relevant > 0, scores.dtype)
