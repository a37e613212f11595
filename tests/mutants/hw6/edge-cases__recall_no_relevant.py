# ruff: noqa: F821
"""0 instead of NaN when no user has a relevant item (torchmetrics' convention)."""

CHECK = "edge-cases/recall-no-relevant"
MESSAGE = "values differ"


def recall_at_k(scores, relevant, k, exclude=None):
    n_relevant = _n_relevant(relevant, exclude)
    if not bool((n_relevant > 0).any()):
        return torch.zeros((), dtype=scores.dtype)
    hits = _ranked_hits(scores, relevant, k, exclude).sum(1).to(scores.dtype)
    per_user = hits / n_relevant.clamp_min(1).to(scores.dtype)
    return _mean_over_users(per_user, n_relevant > 0, scores.dtype)
