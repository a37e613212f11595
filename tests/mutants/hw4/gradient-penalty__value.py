# ruff: noqa: F821
"""gradient_penalty computes the norms in float64 and returns a float64 penalty for float32
inputs."""

import torch

CHECK = "gradient-penalty/value"
MESSAGE = "output: wrong dtype float64, expected float32"


def gradient_penalty(critic, real, fake, alpha):
    x_hat = alpha * real + (1 - alpha) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = torch.sqrt((grad.double() ** 2).reshape(grad.shape[0], -1).sum(1))
    return ((norms - 1.0) ** 2).mean()
