"""Recipe ``simclr`` (Homework 5): train the grader's encoder with the submission's NT-Xent loss.

Each step takes a minibatch of training images (the secret-seeded order; the sandbox holds no
labels), makes two views of it with the grader's augmentations (drawn from the same secret-seeded
generator), embeds both with the grader's ``ConvEncoder`` and its projection head, and asks the
student's ``nt_xent_loss(z1, z2, temperature=T)`` for the loss. The loss sees detached copies of
the embeddings (leaves of a graph of its own): it returns a value and, by autograd, its gradient
with respect to them, which the grader carries back through its own network. So student code
never holds a path to the encoder's parameters. torch's Adam takes the step. Returns the
trained encoder's state (``state.conv1.weight``, ...; the projection head stays here) and the
loss per epoch; the trusted side extracts features with its own encoder and fits a linear probe.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_of,
    train_split,
)
from autograder.wire.encoders import ConvEncoder
from autograder.wire.transforms import standardise_images


def augment(
    pixels: torch.Tensor, g: torch.Generator, shift: int, jitter: float, noise: float
) -> torch.Tensor:
    """One random view of each image: float32 [N, C, H, W] in 0..255 -> the same shape.

    A translation by up to ``shift`` pixels each way (zero fill), a brightness factor drawn from
    U(1 - jitter, 1 + jitter), then Gaussian noise of standard deviation ``noise`` (on the 0-1
    scale). Every draw comes from ``g``, in a fixed order.
    """
    n, c, h, w = pixels.shape
    padded = torch.nn.functional.pad(pixels, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]
    image = torch.arange(n)[:, None, None, None]
    channel = torch.arange(c)[None, :, None, None]
    view = padded[image, channel, rows, cols]
    view = view * (1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * jitter)
    return view + noise * 255.0 * torch.randn(view.shape, generator=g)


def _loss_and_gradients(
    loss_fn: Any, z1: torch.Tensor, z2: torch.Tensor, temperature: float, guard: Guard
) -> tuple[float, torch.Tensor, torch.Tensor]:
    """The student's loss on leaf copies of the embeddings, and its gradient w.r.t. each."""
    a = z1.detach().requires_grad_(True)
    b = z2.detach().requires_grad_(True)
    with guard:
        loss = loss_fn(a, b, temperature=temperature)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ProbeError(
                "error",
                f"nt_xent_loss returned {type(loss).__name__}"
                f"{'' if not isinstance(loss, torch.Tensor) else f' of shape {tuple(loss.shape)}'}"
                ", expected a 0-d tensor",
            )
        if not loss.requires_grad:
            raise ProbeError(
                "error", "nt_xent_loss returned a tensor without a graph: no gradient to train on"
            )
        grads = torch.autograd.grad(loss.reshape(()), (a, b), allow_unused=True)
    value = float(loss.detach())
    out = []
    for grad, z in zip(grads, (z1, z2), strict=True):
        if grad is None:
            grad = torch.zeros_like(z)
        grad = grad.detach().as_subclass(torch.Tensor)
        if grad.shape != z.shape:
            raise ProbeError("error", f"nt_xent_loss's gradient has shape {tuple(grad.shape)}")
        out.append(grad.to(z.dtype))
    return value, out[0], out[1]


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    info = header["data_info"]
    budget = Budget(header)
    pixels = train_split(header, tensors)["images"].float()
    loss_fn = component(module, header, "loss")
    channels, side = int(info["shape"][0]), int(info["shape"][1])
    net = ConvEncoder(
        channels,
        side,
        (int(params["width1"]), int(params["width2"])),
        int(params["features"]),
        int(params["projection"]),
    )
    opt = torch.optim.Adam(net.parameters(), lr=float(params["lr"]))
    g = order_generator(header)
    batch, temperature = int(params["batch_size"]), float(params["temperature"])
    shift, jitter, noise = int(params["shift"]), float(params["jitter"]), float(params["noise"])
    losses: list[float] = []
    n = pixels.shape[0]
    for epoch in range(int(params["epochs"])):
        perm = torch.randperm(n, generator=g)
        running, count = 0.0, 0
        # full batches only: every step contrasts the same number of negatives
        for i in range(0, n - batch + 1, batch):
            x = pixels[perm[i : i + batch]]
            views = [standardise_images(augment(x, g, shift, jitter, noise), info) for _ in "12"]
            z1, z2 = net(views[0]), net(views[1])
            value, g1, g2 = _loss_and_gradients(loss_fn, z1, z2, temperature, guard)
            if not math.isfinite(value):
                raise ProbeError(
                    "error", f"nt_xent_loss returned {value} at epoch {epoch + 1}, step {count + 1}"
                )
            opt.zero_grad(set_to_none=True)
            torch.autograd.backward((z1, z2), (g1, g2))
            opt.step()
            running += value
            count += 1
            budget.check()
        losses.append(running / max(count, 1))
    outputs = state_of(net, list(ConvEncoder.ENCODER_STATE), "encoder")
    outputs["curve.loss"] = curve(losses)
    return outputs, budget.facts()
