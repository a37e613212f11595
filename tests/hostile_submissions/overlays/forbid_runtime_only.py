"""sigmoid takes torch.sigmoid out of torch.__dict__ with a computed key: no name the source
scan can see, so the runtime guard in the worker catches the call."""

import torch


def sigmoid(x):
    return torch.__dict__["sig" + "moid"](x)
