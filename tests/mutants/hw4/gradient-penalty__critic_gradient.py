# ruff: noqa: F821
"""gradient_penalty takes the input gradient without create_graph=True: the penalty has the
right value but is detached, so it never reaches the critic's parameters."""

import torch

CHECK = "gradient-penalty/critic-gradient"
MESSAGE = "images [6, 1, 4, 4], critic flatten-linear(16, 8)-relu-linear(8, 1): "


def gradient_penalty(critic, real, fake, alpha):
    x_hat = alpha * real + (1 - alpha) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    norms = torch.sqrt((grad * grad).reshape(grad.shape[0], -1).sum(1))
    return ((norms - 1.0) ** 2).mean()
