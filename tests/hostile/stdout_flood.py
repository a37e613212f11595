"""Write 300 MB to stdout, then return the right answer."""

import sys

chunk = "y" * (1 << 20)
for _ in range(300):
    sys.stdout.write(chunk)
sys.stdout.flush()


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
