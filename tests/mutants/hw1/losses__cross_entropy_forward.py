# ruff: noqa: F821
"""cross_entropy works in float64 "for stability" and returns a float64 loss for float32 logits."""

CHECK = "losses/cross_entropy-forward"
MESSAGE = "output: wrong dtype float64, expected float32"


def cross_entropy(logits, target):
    logp = log_softmax(logits.double(), dim=1)
    picked = logp.gather(1, target.long().view(-1, 1)).squeeze(1)
    return -picked.mean()
