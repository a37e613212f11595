# ruff: noqa: F821
"""l1_penalty sums p.data: the value is right, but no gradient flows to the parameters."""

CHECK = "regularization/l1-backward"
MESSAGE = "gradient of argument 0.0"


def l1_penalty(parameters):
    return sum(p.data.abs().sum() for p in parameters)
