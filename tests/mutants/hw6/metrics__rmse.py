"""The mean squared error: the square root forgotten."""

CHECK = "metrics/rmse"
MESSAGE = "values differ"


def rmse(pred, target):
    return ((pred - target) ** 2).mean()
