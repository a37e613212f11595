# ruff: noqa: F821
"""binary_step with a straight-through gradient (1 everywhere) instead of zero."""

CHECK = "activations/binary_step-backward"
MESSAGE = "gradient of argument 0: 54 of 54 values differ"


def binary_step(x):
    step = (x >= 0).to(x.dtype)
    return x + (step - x).detach()
