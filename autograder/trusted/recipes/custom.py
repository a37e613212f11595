"""Recipe ``custom``, trusted half: the student's own ``predict`` labelled the held-out images,
which were sent shuffled by the course secret; put the predictions back in order and measure
accuracy. The one recipe that exposes held-out inputs (never their labels) to student code."""

from __future__ import annotations

import torch
from pydantic import Field

from autograder.trusted.metrics import accuracy
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe


class CustomParams(Params):
    train_subset: int = Field(default=0, ge=0)


def measure(trained: Trained) -> dict[str, float]:
    labels = trained.held_out["labels"]
    predictions = trained.outputs.get("predictions")
    if predictions is None or trained.order is None or predictions.shape != labels.shape:
        return {"accuracy": float("nan")}
    in_order = torch.empty_like(predictions)
    in_order[trained.order] = predictions  # predictions[i] labels held-out image order[i]
    value = accuracy(in_order, labels)
    return {"accuracy": float("nan") if value is None else value}


RECIPE = TrustedRecipe(
    name="custom",
    params=CustomParams,
    produces=("accuracy",),
    measure=measure,
    same_state=False,
    exposes=("images",),
)
