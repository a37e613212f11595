"""binary_step, the last symbol of activations, calls a functional that losses forbids too: the
worker's guard must not carry that call over into the next task's first probe (only
binary_step's checks pay)."""

import torch.nn.functional as F


def binary_step(x):
    return F.hardtanh(x) * 0 + (x >= 0).to(x.dtype)
