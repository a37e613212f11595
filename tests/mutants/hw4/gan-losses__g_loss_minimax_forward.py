# ruff: noqa: F821
"""g_loss_minimax as log(1 - sigmoid(f)) literally: -inf once sigmoid rounds to 1."""

import torch

CHECK = "gan-losses/g_loss_minimax-forward"
MESSAGE = "non-finite values"


def g_loss_minimax(fake_logits):
    return torch.log(1 - torch.sigmoid(fake_logits)).mean()
