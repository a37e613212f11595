# ruff: noqa: F821
"""relu ends in .float() (to turn the boolean mask's product into floats): a float64 input comes
back as float32."""

CHECK = "activations/relu-forward"


def relu(x):
    return (x * (x > 0)).float()
