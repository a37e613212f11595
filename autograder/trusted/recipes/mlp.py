"""Recipe ``mlp`` (Homework 1), trusted half: predict the held-out images with the grader's own
components (torch's linear, batch norm in eval mode, relu) from the state the student's
components trained, and measure accuracy. The held-out images never entered the sandbox."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from autograder.trusted.metrics import accuracy
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.transforms import standardise_images


class MlpParams(Params):
    hidden: int = Field(default=256, ge=1, le=4096)
    dropout: float = Field(default=0.2, ge=0, lt=1)
    epochs: int = Field(default=5, ge=1, le=100)
    batch_size: int = Field(default=128, ge=2, le=4096)
    lr: float = Field(default=1e-3, gt=0)
    l2: float = Field(default=0.0, ge=0)
    train_subset: int = Field(default=0, ge=0)
    # the student's BatchNorm1d is built with its defaults: eps 1e-5
    bn_eps: float = Field(default=1e-5, gt=0)


@torch.no_grad()
def predict(state: dict[str, torch.Tensor], images: torch.Tensor, eps: float) -> torch.Tensor:
    """Class predictions (int64 [N]) for standardised float32 images [N, 3, 32, 32]."""
    out = []
    for start in range(0, images.shape[0], 500):
        h = F.linear(images[start : start + 500].flatten(1), state["fc1.weight"], state["fc1.bias"])
        h = F.batch_norm(
            h,
            state["bn.running_mean"],
            state["bn.running_var"],
            state["bn.weight"],
            state["bn.bias"],
            training=False,
            eps=eps,
        )
        logits = F.linear(torch.relu(h), state["fc2.weight"], state["fc2.bias"])
        out.append(logits.argmax(dim=1))
    return torch.cat(out).to(torch.int64)


def measure(trained: Trained) -> dict[str, float]:
    images = standardise_images(trained.held_out["images"], trained.info)
    predictions = predict(trained.state(), images, trained.params.bn_eps)
    value = accuracy(predictions, trained.held_out["labels"])
    return {"accuracy": float("nan") if value is None else value}


RECIPE = TrustedRecipe(name="mlp", params=MlpParams, produces=("accuracy",), measure=measure)
