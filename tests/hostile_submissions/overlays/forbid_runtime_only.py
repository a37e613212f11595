"""sigmoid reaches torch.sigmoid through type(torch).__getattribute__ with a computed name: no
name or lookup the source scan recognises, so the runtime guard in the worker catches the call."""

import torch


def sigmoid(x):
    return type(torch).__getattribute__(torch, "sig" + "moid")(x)
