"""Recipe ``gan`` (Homework 4): train the grader's small GAN with the submission's losses.

Generator: noise [B, noise] -> Linear(noise, hidden) -> leaky_relu(0.2) -> Linear(hidden, 64)
-> sigmoid (pixels in [0, 1]); discriminator: Linear(64, hidden) -> leaky_relu(0.2) ->
Linear(hidden, 1), logits. Each step draws a minibatch of real images in the secret-seeded
order and noise from torch's generator (seeded), then takes one Adam step on the student's
``d_loss(D(real), D(fake.detach()))`` and one on the student's ``g_loss(D(fake))`` (the spec
maps the roles to the non-saturating or the hinge losses). Returns the generator's trained
state (``gen1``, ``gen2``) and the two losses every 100 steps; the trusted side draws its own
samples from that state and scores them with a classifier the student never sees.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_of,
    train_split,
)
from autograder.wire.transforms import unit_pixels

STATE = ["gen1.weight", "gen1.bias", "gen2.weight", "gen2.bias"]
CURVE_EVERY = 100  # steps averaged into one point of each loss curve


class Generator(torch.nn.Module):
    def __init__(self, noise: int, hidden: int, pixels: int) -> None:
        super().__init__()
        self.gen1 = torch.nn.Linear(noise, hidden)
        self.gen2 = torch.nn.Linear(hidden, pixels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gen2(F.leaky_relu(self.gen1(z), 0.2)))


class Discriminator(torch.nn.Module):
    def __init__(self, pixels: int, hidden: int) -> None:
        super().__init__()
        self.disc1 = torch.nn.Linear(pixels, hidden)
        self.disc2 = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.disc2(F.leaky_relu(self.disc1(x), 0.2)).squeeze(1)


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    x_all = unit_pixels(data["images"], header["data_info"])
    d_loss, g_loss = component(module, header, "d_loss"), component(module, header, "g_loss")
    noise, hidden = int(params["noise"]), int(params["hidden"])
    gen, disc = Generator(noise, hidden, x_all.shape[1]), Discriminator(x_all.shape[1], hidden)
    betas = (float(params["beta1"]), 0.999)
    opt_g = torch.optim.Adam(gen.parameters(), lr=float(params["lr"]), betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=float(params["lr"]), betas=betas)
    order = order_generator(header)
    batch, n = int(params["batch_size"]), x_all.shape[0]
    curves: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
    sums = {"d_loss": 0.0, "g_loss": 0.0}
    for step in range(int(params["steps"])):
        real = x_all[torch.randint(n, (batch,), generator=order)]
        z = torch.randn(batch, noise)
        with guard:
            fake = gen(z)
            loss_d = d_loss(disc(real), disc(fake.detach()))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
        opt_d.step()
        with guard:
            loss_g = g_loss(disc(fake))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        opt_g.step()
        sums["d_loss"] += float(loss_d.detach())
        sums["g_loss"] += float(loss_g.detach())
        if (step + 1) % CURVE_EVERY == 0:
            for name in sums:
                curves[name].append(sums[name] / CURVE_EVERY)
                sums[name] = 0.0
        budget.check()
    outputs = state_of(gen, STATE, "generator")
    outputs.update({f"curve.{name}": curve(values) for name, values in curves.items()})
    return outputs, budget.facts()
