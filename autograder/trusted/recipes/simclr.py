"""Recipe ``simclr`` (Homework 5), trusted half: how good are the features the student's
NT-Xent loss taught the grader's encoder? The trained encoder state is loaded into the grader's
own ``ConvEncoder`` (torch layers, never student code), which embeds the training images and
the held-out ones; a linear probe (``trusted/linear_probe.py``) is fitted on the training
features with their labels and scored on the held-out labels. No label, and no held-out image,
ever entered the sandbox. Higher is better.
"""

from __future__ import annotations

import torch
from pydantic import Field

from autograder.trusted.linear_probe import probe_accuracy
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.encoders import ConvEncoder
from autograder.wire.transforms import standardise_images


class SimclrParams(Params):
    epochs: int = Field(default=15, ge=1, le=1000)
    batch_size: int = Field(default=256, ge=2, le=4096)
    lr: float = Field(default=1e-3, gt=0)
    temperature: float = Field(default=0.1, gt=0)
    # the encoder: two strided 3x3 convolutions, then a linear layer to the features
    width1: int = Field(default=16, ge=1, le=256)
    width2: int = Field(default=32, ge=1, le=256)
    features: int = Field(default=64, ge=1, le=1024)
    projection: int = Field(default=32, ge=1, le=1024)
    # the augmentations: translation (pixels), brightness factor 1 +- jitter, noise std (0-1)
    shift: int = Field(default=3, ge=0, le=8)
    jitter: float = Field(default=0.3, ge=0, lt=1)
    noise: float = Field(default=0.1, ge=0, le=1)
    # the probe: L2 penalty on its weights, L-BFGS iterations
    probe_l2: float = Field(default=1e-3, ge=0)
    probe_iterations: int = Field(default=200, ge=1, le=5000)


@torch.no_grad()
def features(
    state: dict[str, torch.Tensor], images: torch.Tensor, info: dict, p: SimclrParams
) -> torch.Tensor:
    """The frozen encoder's features [N, p.features] of uint8 ``images`` [N, C, S, S], computed
    by the grader's own encoder from the trained ``state`` (in batches of 1,000)."""
    encoder = ConvEncoder(
        int(info["shape"][0]), int(info["shape"][1]), (p.width1, p.width2), p.features, p.projection
    ).load_encoder(state)
    x = standardise_images(images, info)
    return torch.cat([encoder.features(x[i : i + 1000]) for i in range(0, x.shape[0], 1000)])


def measure(trained: Trained) -> dict[str, float]:
    p, held, state = trained.params, trained.held_out, trained.state()
    accuracy = probe_accuracy(
        features(state, held["train_images"], trained.info, p),
        held["train_labels"],
        features(state, held["images"], trained.info, p),
        held["labels"],
        l2=p.probe_l2,
        iterations=p.probe_iterations,
    )
    return {"probe_accuracy": accuracy}


RECIPE = TrustedRecipe(
    name="simclr", params=SimclrParams, produces=("probe_accuracy",), measure=measure
)
