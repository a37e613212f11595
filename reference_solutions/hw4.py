"""Reference solution for Homework 4: generative models (VAE and GAN).

Written from elementary tensor operations only: none of the torch built-ins that the tasks ask
students to reimplement (``torch.distributions``, ``binary_cross_entropy_with_logits``,
``softplus``, ``logsigmoid``, ``mse_loss``, ...) is called; the grader runs this file under the
same forbidden-API guard as a submission. Staff only: never ship this file to students.

Each graded function computes what it needs itself (the private helpers below are shared), so a
mistake in one function costs only that function's checks.
"""

import math

import torch

# --- helpers ----------------------------------------------------------------------------------


def _softplus(x):
    # log(1 + exp(x)) as a log-sum-exp of (0, x), shifted by max(0, x): finite for any |x|,
    # and its gradient is exactly sigmoid(x), 0.5 at x = 0 (as torch's softplus)
    m = torch.clamp(x, min=0).detach()
    return m + torch.log(torch.exp(-m) + torch.exp(x - m))


def _kl(mu, logvar):
    # KL(N(mu, exp(logvar)) || N(0, 1)) per element, in closed form
    return 0.5 * (mu * mu + torch.exp(logvar) - 1.0 - logvar)


# --- 1. The reparameterisation trick ----------------------------------------------------------


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


# --- 2. KL divergence to the standard normal --------------------------------------------------


def kl_std_normal(mu, logvar):
    return _kl(mu, logvar).sum(-1)


# --- 3. The VAE loss --------------------------------------------------------------------------


def vae_loss(recon, x, mu, logvar, likelihood="bernoulli", beta=1.0, reduction="mean"):
    n = recon.shape[0]
    if likelihood == "bernoulli":
        # binary cross-entropy with logits: softplus(z) - z * x
        per_feature = _softplus(recon) - recon * x
        reconstruction = per_feature.reshape(n, -1).sum(1)
    elif likelihood == "gaussian":
        d = recon[0].numel()
        squared = (x - recon) ** 2
        reconstruction = 0.5 * squared.reshape(n, -1).sum(1) + 0.5 * d * math.log(2 * math.pi)
    else:
        raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
    per_sample = reconstruction + beta * _kl(mu, logvar).reshape(n, -1).sum(1)
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


# --- 4. GAN losses (on logits, averaged over the batch) ---------------------------------------


def d_loss_bce(real_logits, fake_logits):
    # BCE(real, 1) = softplus(-real); BCE(fake, 0) = softplus(fake)
    return _softplus(-real_logits).mean() + _softplus(fake_logits).mean()


def g_loss_minimax(fake_logits):
    # log(1 - sigmoid(f)) = -softplus(f)
    return -_softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits):
    return _softplus(-fake_logits).mean()


def d_loss_hinge(real_logits, fake_logits):
    return torch.relu(1.0 - real_logits).mean() + torch.relu(1.0 + fake_logits).mean()


def g_loss_hinge(fake_logits):
    return -fake_logits.mean()


def d_loss_wasserstein(real_logits, fake_logits):
    return fake_logits.mean() - real_logits.mean()


# --- 5. Gradient penalty (WGAN-GP) ------------------------------------------------------------


def gradient_penalty(critic, real, fake, alpha):
    x_hat = alpha * real + (1 - alpha) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = torch.sqrt((grad * grad).reshape(grad.shape[0], -1).sum(1))
    return ((norms - 1.0) ** 2).mean()
