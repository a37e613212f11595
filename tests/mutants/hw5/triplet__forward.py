# ruff: noqa: F821
"""triplet_margin_loss measures the distances in float64 and returns a float64 loss for float32
inputs (the gradients reaching the float32 inputs are right)."""

CHECK = "triplet/forward"
MESSAGE = "output: wrong dtype float64, expected float32"


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    a, pos, neg = anchor.double(), positive.double(), negative.double()
    d_ap = _pairwise_distance(a, pos, p, eps)
    d_an = _pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = d_an.minimum(_pairwise_distance(pos, neg, p, eps))
    return (margin + d_ap - d_an).clamp_min(0).mean()
