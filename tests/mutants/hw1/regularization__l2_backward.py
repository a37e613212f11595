# ruff: noqa: F821
"""l2_penalty detaches one factor of the square: the value is right, the gradient is p, not 2p."""

CHECK = "regularization/l2-backward"
MESSAGE = "gradient of argument 0.0"


def l2_penalty(parameters):
    return sum((p * p.detach()).sum() for p in parameters)
