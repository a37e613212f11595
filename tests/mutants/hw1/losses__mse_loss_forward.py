# ruff: noqa: F821
"""mse_loss keeps the reduced dimensions (keepdim=True): shape (1, 1) instead of a 0-d tensor."""

CHECK = "losses/mse_loss-forward"
MESSAGE = "output: wrong shape (1, 1) != ()"


def mse_loss(pred, target):
    return ((pred - target) ** 2).mean(dim=tuple(range(pred.dim())), keepdim=True)
