# ruff: noqa: F821
"""g_loss_nonsaturating as -log(sigmoid(f)) literally: infinite for very negative logits."""

import torch

CHECK = "gan-losses/g_loss_nonsaturating-forward"
MESSAGE = "non-finite values"


def g_loss_nonsaturating(fake_logits):
    return -torch.log(torch.sigmoid(fake_logits)).mean()
