# ruff: noqa: F821
"""The ideal DCG over k ranks whatever the number of relevant items: a user with fewer than k
relevant items can never reach 1."""

CHECK = "metrics/ndcg"
MESSAGE = "values differ"


def ndcg_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, exclude).to(scores.dtype)
    discount = 1.0 / torch.log2(torch.arange(1, k + 1, dtype=scores.dtype) + 1.0)
    dcg = (hits * discount[: hits.shape[1]]).sum(1)
    ideal = discount.sum()
    return _mean_over_users(dcg / ideal, _n_relevant(relevant, exclude) > 0, scores.dtype)
