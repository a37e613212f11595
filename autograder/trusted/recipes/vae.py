"""Recipe ``vae`` (Homework 4), trusted half: the held-out negative ELBO of the VAE the
student's ``reparameterize`` and ``vae_loss`` trained, computed with the grader's own
arithmetic (torch's linear and relu, its own noise, its own Bernoulli and KL terms) from the
trained state. The held-out images never entered the sandbox. Lower is better."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from autograder.trusted.metrics import negative_elbo
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.transforms import binarise, unit_pixels


class VaeParams(Params):
    hidden: int = Field(default=128, ge=1, le=4096)
    latent: int = Field(default=8, ge=1, le=256)
    epochs: int = Field(default=60, ge=1, le=1000)
    batch_size: int = Field(default=64, ge=1, le=4096)
    lr: float = Field(default=1e-3, gt=0)
    beta: float = Field(default=1.0, ge=0)
    # pixels at or above this (on a 0-1 scale) are 1: the Bernoulli decoder's targets
    threshold: float = Field(default=0.5, gt=0, le=1)
    # draws of z per held-out image in the ELBO's reconstruction term, from a fixed seed
    eval_draws: int = Field(default=16, ge=1, le=256)
    eval_seed: int = 0


@torch.no_grad()
def held_out_neg_elbo(
    state: dict[str, torch.Tensor], x: torch.Tensor, draws: int, seed: int
) -> float:
    """Negative ELBO (nats per image) of binarised images ``x`` [N, D] under the VAE in
    ``state``, with ``draws`` noise samples per image from a generator seeded with ``seed``."""
    h = torch.relu(F.linear(x, state["enc.weight"], state["enc.bias"]))
    mu = F.linear(h, state["mu.weight"], state["mu.bias"])
    logvar = F.linear(h, state["logvar.weight"], state["logvar.bias"])
    eps = torch.randn(
        (draws, *mu.shape), generator=torch.Generator().manual_seed(seed), dtype=mu.dtype
    )
    z = mu + torch.exp(0.5 * logvar) * eps
    d = torch.relu(F.linear(z, state["dec1.weight"], state["dec1.bias"]))
    logits = F.linear(d, state["dec2.weight"], state["dec2.bias"])
    return negative_elbo(logits, x, mu, logvar)


def measure(trained: Trained) -> dict[str, float]:
    p = trained.params
    x = binarise(unit_pixels(trained.held_out["images"], trained.info), p.threshold)
    return {"neg_elbo": held_out_neg_elbo(trained.state(), x, p.eval_draws, p.eval_seed)}


RECIPE = TrustedRecipe(name="vae", params=VaeParams, produces=("neg_elbo",), measure=measure)
