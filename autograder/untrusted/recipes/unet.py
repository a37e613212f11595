"""Recipe ``unet`` (Homework 2): train the submission's U-Net with its dice loss plus
cross-entropy on a segmentation dataset's training split.

The network is the student's ``UNet(in_channels, num_classes, base_channels, depth)`` (built
from their ``DoubleConv``, ``Down`` and ``Up``); the loss is the student's ``dice_loss(logits,
masks)`` plus torch's cross-entropy; the optimizer is torch's Adam with a cosine learning-rate
decay to zero, over minibatches in the secret-seeded order. Images are standardised with the
dataset's constants. Returns every ``state_dict`` entry of the trained network (the template
lists their keys: the trusted side predicts the held-out masks with its own functional U-Net
from them, so no held-out image reaches this process) and the loss per epoch.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_dict_of,
    train_split,
)
from autograder.wire.transforms import standardise_images


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params, info = header["params"], header["data_info"]
    budget = Budget(header)
    data = train_split(header, tensors)
    images, masks = data["images"], data["masks"]
    order = order_generator(header)
    if params.get("train_subset"):
        keep = torch.randperm(images.shape[0], generator=order)[: int(params["train_subset"])]
        images, masks = images[keep], masks[keep]
    x_all = standardise_images(images, info)
    unet, dice_loss = component(module, header, "model"), component(module, header, "loss")
    with guard:
        net = unet(
            x_all.shape[1],
            int(info["num_classes"]),
            base_channels=int(params["base_channels"]),
            depth=int(params["depth"]),
        )
    if not isinstance(net, torch.nn.Module):
        raise ProbeError("error", f"{header['components']['model']}(...) is not an nn.Module")
    lr, batch, epochs = float(params["lr"]), int(params["batch_size"]), int(params["epochs"])
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    n = x_all.shape[0]
    steps, step = epochs * math.ceil(n / batch), 0
    losses: list[float] = []
    for _epoch in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=order)
        running, count = 0.0, 0
        for start in range(0, n, batch):
            idx = perm[start : start + batch]
            x, y = x_all[idx], masks[idx]
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            with guard:
                logits = net(x)
                dice = dice_loss(logits, y)
            if not isinstance(logits, torch.Tensor) or not isinstance(dice, torch.Tensor):
                raise ProbeError("error", "the U-Net and dice_loss must return tensors")
            if logits.shape != (x.shape[0], int(info["num_classes"]), *x.shape[2:]):
                raise ProbeError(
                    "error",
                    f"the U-Net returned logits of shape {tuple(logits.shape)} for inputs "
                    f"{tuple(x.shape)}, expected {(x.shape[0], int(info['num_classes']))} + "
                    f"{tuple(x.shape[2:])}",
                )
            loss = dice.reshape(()) + F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            with guard:
                loss.backward()
            opt.step()
            step += 1
            running += float(loss.detach())
            count += 1
            budget.check()
        losses.append(running / max(count, 1))
    with guard:
        outputs = state_dict_of(net, "U-Net")
    outputs["curve.loss"] = curve(losses)
    return outputs, budget.facts()
