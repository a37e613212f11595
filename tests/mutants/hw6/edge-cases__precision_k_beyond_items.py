# ruff: noqa: F821
"""The top k by torch.topk, which refuses a k larger than the number of items."""

CHECK = "edge-cases/precision-k-beyond-items"
MESSAGE = "out of range"


def precision_at_k(scores, relevant, k, exclude=None):
    s = scores if exclude is None else scores.masked_fill(exclude, -math.inf)
    top = s.topk(k, dim=1).indices
    hits = relevant.gather(1, top)
    if exclude is not None:
        hits = hits & ~exclude.gather(1, top)
    hits = hits.sum(1).to(scores.dtype)
    return _mean_over_users(hits / k, _n_relevant(relevant, exclude) > 0, scores.dtype)
