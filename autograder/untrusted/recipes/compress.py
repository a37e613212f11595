"""Recipe ``compress`` (Homework 2): the submission's ``compress(model, calibration_images)``
makes the grader's trained CNN smaller and faster; the result is exported as data.

The network is a fixture (``params["model"]``, trained by the grader itself): torch's own layers
built from its description and tensors, in eval mode. ``calibration_images`` are the first
``params["calibration"]`` training images in the secret-seeded order, standardised (float32
[N, 3, H, W]). Whatever ``compress`` returns (the same model changed in place, or a new one) is
described layer by layer (``wire/modules.export``: ``nn.Sequential`` of whitelisted torch layers
and the submission's own fake-quantization module, read as its scale, zero point and range), and
its floating tensors travel packed in one vector, in the description's key order. The trusted
side rebuilds it from torch layers only and measures it on held-out images this process never
sees; no student method runs there.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    fixture,
    order_generator,
    train_split,
)
from autograder.wire import arch, modules
from autograder.wire.transforms import standardise_images


def pack(description: arch.Architecture, state: dict[str, torch.Tensor]) -> torch.Tensor:
    """Every floating tensor of ``state`` flattened into one float32 vector, in the order of
    ``description.state_shapes()`` (integer counters are left out: they are rebuilt as zeros)."""
    parts = []
    for key, (shape, dtype) in description.state_shapes().items():
        if dtype != "float32":
            continue
        value = state[key]
        if tuple(value.shape) != shape or not value.is_floating_point():
            raise ProbeError(
                "error",
                f"the returned model's {key} is {value.dtype} {tuple(value.shape)}, "
                f"expected float32 {shape}",
            )
        parts.append(value.detach().to(torch.float32).reshape(-1))
    return torch.cat(parts) if parts else torch.zeros(0)


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    weights, info = fixture(header, tensors, str(params["model"]))
    model = modules.build(arch.architecture(info["layers"]), weights)
    order = order_generator(header)
    pick = torch.randperm(data["images"].shape[0], generator=order)[: int(params["calibration"])]
    calibration = standardise_images(data["images"][pick], header["data_info"])
    compress = component(module, header, "compress")
    fake_quant = component(module, header, "fake_quant")
    with guard:
        result = compress(model, calibration)
    budget.check()
    if result is None:
        raise ProbeError(
            "error",
            "compress returned None: return the model (the same one if you changed it in place)",
        )
    try:
        with guard:
            layers, state = modules.export(
                result, fake_quant if isinstance(fake_quant, type) else None
            )
    except modules.ExportError as exc:
        raise ProbeError(
            "error", f"compress returned a model the grader cannot read: {exc}"
        ) from None
    description = arch.architecture(layers)  # export validated it
    return {"weights": pack(description, state)}, {"layers": layers, **budget.facts()}
