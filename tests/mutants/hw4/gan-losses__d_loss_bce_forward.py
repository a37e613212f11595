# ruff: noqa: F821
"""d_loss_bce in the textbook form -log(sigmoid(real)) - log(1 - sigmoid(fake)): infinite once
the discriminator is confident (logits of +-88 and beyond)."""

import torch

CHECK = "gan-losses/d_loss_bce-forward"
MESSAGE = "logits of +-1e4, +-88, +-20 and 0: output: non-finite values"


def d_loss_bce(real_logits, fake_logits):
    real = -torch.log(torch.sigmoid(real_logits)).mean()
    fake = -torch.log(1 - torch.sigmoid(fake_logits)).mean()
    return real + fake
