"""Recipe ``custom``: the student's own model, ``build() -> model``,
``train(model, images, labels, budget_seconds)`` (returns a list of losses or None) and
``predict(model, images) -> int64 labels``. Images are float32 (N, C, H, W), standardised.

The one recipe where student code turns held-out inputs into outputs: they arrive shuffled by
the course secret (``held_out_images``) and the trusted side puts the predictions back in
order before it scores them. A submission could still store what it saw of them; the labels
never arrive. Prefer a fixed architecture (``mlp``) where the course allows it.
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
    train_split,
)
from autograder.wire.transforms import standardise_images


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    images, labels = data["images"], data["labels"]
    if params.get("train_subset"):
        keep = torch.randperm(images.shape[0], generator=order_generator(header))
        keep = keep[: int(params["train_subset"])]
        images, labels = images[keep], labels[keep]
    info = header["data_info"]
    build, train, predict = (component(module, header, r) for r in ("build", "train", "predict"))
    with guard:
        model = build()
        losses = train(model, standardise_images(images, info), labels.clone(), budget.seconds)
    budget.check()
    with torch.no_grad(), guard:
        predictions = predict(model, standardise_images(data["held_out_images"], info))
    if not isinstance(predictions, torch.Tensor):
        predictions = torch.as_tensor(predictions)
    plain = predictions.detach().as_subclass(torch.Tensor).to(torch.int64).reshape(-1).clone()
    return {"predictions": plain, "curve.loss": curve(losses)}, budget.facts()
