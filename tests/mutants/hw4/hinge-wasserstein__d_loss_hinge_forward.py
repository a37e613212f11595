# ruff: noqa: F821
"""d_loss_hinge returns a tensor of shape [1] (a mean kept as a one-element batch), not 0-d."""

import torch

CHECK = "hinge-wasserstein/d_loss_hinge-forward"
MESSAGE = "wrong shape"


def d_loss_hinge(real_logits, fake_logits):
    loss = torch.relu(1.0 - real_logits).mean() + torch.relu(1.0 + fake_logits).mean()
    return loss.reshape(1)
