# ruff: noqa: F821
"""relu returns its input: the network collapses to a linear classifier."""


def relu(x):
    return x
