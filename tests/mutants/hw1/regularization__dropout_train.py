# ruff: noqa: F821
"""Dropout applies its mask in place under torch.no_grad(): the forward values are right, but
autograd never sees the mask, so the gradient reaches dropped elements unscaled."""

import torch

CHECK = "regularization/dropout-train"
MESSAGE = "the backward pass does not use the forward pass's mask and scale"


class Dropout:
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        out = x.clone()
        keep = (torch.rand(x.shape) >= self.p).to(x.dtype)
        with torch.no_grad():
            out.mul_(keep).div_(1 - self.p)
        return out
