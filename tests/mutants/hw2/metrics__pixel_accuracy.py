"""pixel_accuracy counts the ignored pixels too."""

# ruff: noqa: F821
CHECK = "metrics/pixel_accuracy"
MESSAGE = "values differ"


def pixel_accuracy(pred, target, ignore_index=None):
    return (pred == target).double().mean().float()
