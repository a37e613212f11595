"""Recipe ``unet`` (Homework 2), trusted half: predict the held-out masks with the grader's own
functional U-Net (torch's conv2d, batch norm in eval mode, relu, max pool, transposed conv, pad)
from the state the student's U-Net trained, and measure the mean IoU. The held-out images never
entered the sandbox; the state's keys are the template's (``same_state``: they must be the
reference's, shape and dtype included).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field

from autograder.trusted.metrics import mean_iou
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.transforms import standardise_images


class UNetParams(Params):
    base_channels: int = Field(default=16, ge=1, le=64)
    depth: int = Field(default=2, ge=1, le=5)
    epochs: int = Field(default=3, ge=1, le=100)
    batch_size: int = Field(default=16, ge=1, le=1024)
    lr: float = Field(default=5e-3, gt=0)
    train_subset: int = Field(default=0, ge=0)
    # the student's BatchNorm2d layers are built with their defaults: eps 1e-5
    bn_eps: float = Field(default=1e-5, gt=0)


def _double_conv(x: torch.Tensor, s: dict[str, torch.Tensor], at: str, eps: float):
    """``DoubleConv``: (conv3x3 without bias, batch norm, relu) twice; keys ``at + double_conv.i``."""
    for conv, bn in ((0, 1), (3, 4)):
        x = F.conv2d(x, s[f"{at}double_conv.{conv}.weight"], padding=1)
        p = f"{at}double_conv.{bn}."
        x = F.batch_norm(
            x,
            s[p + "running_mean"],
            s[p + "running_var"],
            s[p + "weight"],
            s[p + "bias"],
            training=False,
            eps=eps,
        )
        x = F.relu(x)
    return x


@torch.no_grad()
def forward(state: dict[str, torch.Tensor], x: torch.Tensor, depth: int, eps: float):
    """Logits [N, C, H, W] of the U-Net whose ``state_dict`` is ``state`` (the template's keys:
    ``inc``, ``downs.i.maxpool_conv.1``, ``ups.i.up`` and ``ups.i.conv``, ``outc``), eval mode."""
    skips = [_double_conv(x, state, "inc.", eps)]
    for i in range(depth):
        skips.append(
            _double_conv(F.max_pool2d(skips[-1], 2), state, f"downs.{i}.maxpool_conv.1.", eps)
        )
    x = skips.pop()
    for i in range(depth):
        skip = skips.pop()
        x = F.conv_transpose2d(x, state[f"ups.{i}.up.weight"], state[f"ups.{i}.up.bias"], stride=2)
        dy, dx = skip.shape[2] - x.shape[2], skip.shape[3] - x.shape[3]
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        x = _double_conv(torch.cat([skip, x], dim=1), state, f"ups.{i}.conv.", eps)
    return F.conv2d(x, state["outc.weight"], state["outc.bias"])


def predict(
    state: dict[str, torch.Tensor], images: torch.Tensor, depth: int, eps: float
) -> torch.Tensor:
    """Class maps (int64 [N, H, W]) for standardised float32 images [N, C, H, W]."""
    out = [
        forward(state, images[i : i + 250], depth, eps).argmax(dim=1)
        for i in range(0, images.shape[0], 250)
    ]
    return torch.cat(out).to(torch.int64)


def measure(trained: Trained) -> dict[str, float]:
    params = trained.params
    images = standardise_images(trained.held_out["images"], trained.info)
    masks = trained.held_out["masks"]
    predictions = predict(trained.state(), images, params.depth, params.bn_eps)
    value = mean_iou(predictions, masks, int(trained.info["num_classes"]))
    return {"mean_iou": math.nan if value is None else value}


RECIPE = TrustedRecipe(name="unet", params=UNetParams, produces=("mean_iou",), measure=measure)
