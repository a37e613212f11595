# ruff: noqa: F821
"""relu ends in .float() (to turn the boolean mask's product into floats): a float64 input comes
back as float32."""

CHECK = "activations/relu-forward"
MESSAGE = "float64, 3-D: output: wrong dtype float32, expected float64"


def relu(x):
    return (x * (x > 0)).float()
