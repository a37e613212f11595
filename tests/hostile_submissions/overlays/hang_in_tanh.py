"""tanh never returns (graded under a short task limit): only activations times out."""


def tanh(x):
    while True:
        pass
