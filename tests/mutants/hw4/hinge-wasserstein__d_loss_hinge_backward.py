# ruff: noqa: F821
"""d_loss_hinge detaches the real logits: only the fake half of the hinge trains."""

import torch

CHECK = "hinge-wasserstein/d_loss_hinge-backward"
MESSAGE = "gradient of argument 0"


def d_loss_hinge(real_logits, fake_logits):
    return torch.relu(1.0 - real_logits.detach()).mean() + torch.relu(1.0 + fake_logits).mean()
