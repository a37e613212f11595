# ruff: noqa: F821
"""Training items ranked like any other: an excluded item can take a top-k place."""

CHECK = "metrics/precision"
MESSAGE = "values differ"


def precision_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, None).sum(1).to(scores.dtype)
    return _mean_over_users(hits / k, _n_relevant(relevant, exclude) > 0, scores.dtype)
