"""Recipe ``vae`` (Homework 4): train the grader's small VAE with the submission's
``reparameterize`` and ``vae_loss``.

Pixels scaled to [0, 1] and binarised at ``threshold`` (the targets of a Bernoulli decoder);
encoder Linear(64, hidden) -> relu -> Linear(hidden, latent) twice, for mu and logvar;
z = the student's ``reparameterize(mu, logvar)`` (drawing its own noise from torch's generator,
seeded); decoder Linear(latent, hidden) -> relu -> Linear(hidden, 64), logits. torch's Adam
minimises the student's ``vae_loss(logits, x, mu, logvar, likelihood="bernoulli", beta=beta,
reduction="mean")`` over minibatches in the secret-seeded order. Returns the trained state by
role (``enc``, ``mu``, ``logvar``, ``dec1``, ``dec2``); the trusted side computes the held-out
negative ELBO with its own arithmetic from that state.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_of,
    train_split,
)
from autograder.wire.transforms import binarise, unit_pixels

LAYERS = ("enc", "mu", "logvar", "dec1", "dec2")
STATE = [f"{layer}.{p}" for layer in LAYERS for p in ("weight", "bias")]


class VAE(torch.nn.Module):
    """The grader's architecture; only the sampling and the loss are the student's."""

    def __init__(self, pixels: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.enc = torch.nn.Linear(pixels, hidden)
        self.mu = torch.nn.Linear(hidden, latent)
        self.logvar = torch.nn.Linear(hidden, latent)
        self.dec1 = torch.nn.Linear(latent, hidden)
        self.dec2 = torch.nn.Linear(hidden, pixels)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.enc(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec2(torch.relu(self.dec1(z)))


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    x_all = binarise(unit_pixels(data["images"], header["data_info"]), float(params["threshold"]))
    reparameterize = component(module, header, "reparameterize")
    loss_fn = component(module, header, "loss")
    net = VAE(x_all.shape[1], int(params["hidden"]), int(params["latent"]))
    opt = torch.optim.Adam(net.parameters(), lr=float(params["lr"]))
    order = order_generator(header)
    beta, batch = float(params["beta"]), int(params["batch_size"])
    losses: list[float] = []
    n = x_all.shape[0]
    for _epoch in range(int(params["epochs"])):
        perm = torch.randperm(n, generator=order)
        running, count = 0.0, 0
        for i in range(0, n, batch):
            x = x_all[perm[i : i + batch]]
            with guard:
                mu, logvar = net.encode(x)
                z = reparameterize(mu, logvar)
                loss = loss_fn(
                    net.decode(z),
                    x,
                    mu,
                    logvar,
                    likelihood="bernoulli",
                    beta=beta,
                    reduction="mean",
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            running += float(loss.detach())
            count += 1
            budget.check()
        losses.append(running / max(count, 1))
    outputs = state_of(net, STATE, "VAE")
    outputs["curve.loss"] = curve(losses)
    return outputs, budget.facts()
