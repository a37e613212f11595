# ruff: noqa: F821
"""Recall divided by k, as precision is, instead of by the user's number of relevant items."""

CHECK = "metrics/recall"
MESSAGE = "values differ"


def recall_at_k(scores, relevant, k, exclude=None):
    hits = _ranked_hits(scores, relevant, k, exclude).sum(1).to(scores.dtype)
    return _mean_over_users(hits / k, _n_relevant(relevant, exclude) > 0, scores.dtype)
