# ruff: noqa: F821
"""Correct throughout, written another way: softplus as torch.logaddexp(0, x), the Bernoulli
term as x * softplus(-z) + (1 - x) * softplus(z), the KL through the standard deviation,
torch.linalg.vector_norm in the penalty with grad_outputs, and the fake images detached there
(the penalty trains the critic only)."""

import math

import torch


def reparameterize(mu, logvar, eps=None):
    std = torch.exp(logvar / 2)
    if eps is None:
        eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    return eps * std + mu


def kl_std_normal(mu, logvar):
    std = torch.exp(0.5 * logvar)
    return (0.5 * (mu.pow(2) + std.pow(2) - 1) - 0.5 * logvar).sum(dim=-1)


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    dims = tuple(range(1, recon.dim()))
    if likelihood == "bernoulli":
        zero = torch.zeros_like(recon)
        nll = x * torch.logaddexp(zero, -recon) + (1 - x) * torch.logaddexp(zero, recon)
        rec = nll.sum(dim=dims)
    else:
        d = math.prod(recon.shape[1:])
        rec = ((x - recon) ** 2).sum(dim=dims) / 2 + d * math.log(2 * math.pi) / 2
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=-1)
    total = rec + beta * kl
    return total.sum() if reduction == "sum" else total.mean()


def d_loss_bce(real_logits, fake_logits):
    r = torch.logaddexp(torch.zeros_like(real_logits), -real_logits)
    f = torch.logaddexp(torch.zeros_like(fake_logits), fake_logits)
    return r.mean() + f.mean()


def g_loss_minimax(fake_logits):
    return -torch.logaddexp(torch.zeros_like(fake_logits), fake_logits).mean()


def g_loss_nonsaturating(fake_logits):
    return torch.logaddexp(torch.zeros_like(fake_logits), -fake_logits).mean()


def gradient_penalty(critic, real, fake, alpha):
    x_hat = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    grad = torch.autograd.grad(
        outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores), create_graph=True
    )[0]
    norms = torch.linalg.vector_norm(grad.flatten(start_dim=1), ord=2, dim=1)
    return (norms - 1).pow(2).mean()
