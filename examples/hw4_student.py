"""Homework 4: generative models (VAE and GAN) -- an example submission.

This file shows what `autograder check hw4` reports for a submission with a few realistic
mistakes (each marked MISTAKE below): the reparameterisation forgets the 0.5, the KL averages
over the latent dimensions instead of summing, two losses use the textbook log(sigmoid(...))
form, the gradient penalty is taken without create_graph=True, and the Wasserstein loss has the
wrong sign. Everything else is correct.
"""

import math

import torch


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    # MISTAKE: exp(logvar) is the variance; the noise must be scaled by exp(0.5 * logvar)
    return mu + torch.exp(logvar) * eps


def kl_std_normal(mu, logvar):
    # MISTAKE: mean over the latent dimensions, not the sum
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(dim=-1)


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        # MISTAKE: log(sigmoid(z)) is -inf for very negative logits (and log(1 - sigmoid(z))
        # for very positive ones)
        p = torch.sigmoid(recon)
        rec = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).reshape(n, -1).sum(dim=1)
    else:
        d = recon[0].numel()
        rec = 0.5 * ((x - recon) ** 2).reshape(n, -1).sum(dim=1) + 0.5 * d * math.log(2 * math.pi)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)
    total = rec + beta * kl
    return total.mean() if reduction == "mean" else total.sum()


def _softplus(x):
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))


def d_loss_bce(real_logits, fake_logits):
    return _softplus(-real_logits).mean() + _softplus(fake_logits).mean()


def g_loss_minimax(fake_logits):
    # MISTAKE: 1 - sigmoid(f) rounds to 0 for large logits, and log(0) is -inf
    return torch.log(1 - torch.sigmoid(fake_logits)).mean()


def g_loss_nonsaturating(fake_logits):
    return _softplus(-fake_logits).mean()


def d_loss_hinge(real_logits, fake_logits):
    return torch.relu(1 - real_logits).mean() + torch.relu(1 + fake_logits).mean()


def g_loss_hinge(fake_logits):
    return -fake_logits.mean()


def d_loss_wasserstein(real_logits, fake_logits):
    # MISTAKE: the critic should minimise mean(fake) - mean(real)
    return real_logits.mean() - fake_logits.mean()


def gradient_penalty(critic, real, fake, alpha):
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    scores = critic(x_hat)
    # MISTAKE: without create_graph=True the penalty is a constant to the critic's optimiser
    (grad,) = torch.autograd.grad(scores.sum(), x_hat)
    norms = grad.reshape(grad.shape[0], -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()
