"""Recipe ``compress`` (Homework 2), trusted half: rebuild the network the student's ``compress``
returned from its description (torch layers only, ``wire/modules.build``), and measure it against
the uncompressed fixture on held-out images that never entered the sandbox:

- ``accuracy_drop``: the fixture's held-out accuracy minus the compressed network's (fractions;
  0.01 is one point);
- ``weight_density``: the non-zero Conv2d and Linear weights of the compressed network over all
  Conv2d and Linear weights of the original (a pruned, folded network keeps its zeros);
- ``latency_ratio``: the compressed network's eval-mode time per batch over the original's,
  on this machine (median of interleaved runs; reported, not scored: it is not deterministic);
- ``accuracy``: the compressed network's held-out accuracy (reported).
"""

from __future__ import annotations

import math
import statistics
import time

import torch
from pydantic import Field

from autograder.trusted.metrics import accuracy, weight_density
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire import arch, modules
from autograder.wire.transforms import standardise_images


class CompressParams(Params):
    # the fixture holding the network to compress (``trusted/fixtures``)
    model: str = "catdog_cnn"
    # training images (secret-seeded choice) given to compress for calibration
    calibration: int = Field(default=256, ge=1, le=10000)
    # held-out images per timed batch, and timed runs of each network
    latency_batch: int = Field(default=256, ge=1, le=4096)
    latency_runs: int = Field(default=5, ge=1, le=50)


def unpack(description: arch.Architecture, packed: torch.Tensor) -> dict[str, torch.Tensor]:
    """The network's tensors from the worker's one float32 vector (``untrusted/recipes/compress
    .pack``): split in the description's key order; integer counters are zeros."""
    shapes = description.state_shapes()
    sizes = [math.prod(shape) for shape, dtype in shapes.values() if dtype == "float32"]
    if packed.dtype != torch.float32 or packed.dim() != 1 or packed.numel() != sum(sizes):
        raise ValueError(
            f"the packed weights are {packed.dtype} {tuple(packed.shape)}, expected float32 "
            f"({sum(sizes)},) for the layers described"
        )
    state, offset = {}, 0
    for key, (shape, dtype) in shapes.items():
        if dtype != "float32":
            state[key] = torch.zeros(shape, dtype=getattr(torch, dtype))
            continue
        size = math.prod(shape)
        state[key] = packed[offset : offset + size].reshape(shape).clone()
        offset += size
    return state


# How much more a compressed network may cost per image than the original before the grader
# refuses to run it: the layers are the student's to choose, and the trusted side runs them on
# every held-out image (a stack of padded 1x1 convolutions has few weights and activations of
# gigabytes). Folding and fake quantization cost about what the original does.
MAX_COST_RATIO = 4


def affordable(description: arch.Architecture, original: arch.Architecture, shape) -> None:
    """``ValueError`` unless ``description`` takes inputs of ``shape`` to the original's output
    shape within ``MAX_COST_RATIO`` of its multiply-adds and largest activation."""
    mine, theirs = description.cost(shape), original.cost(shape)
    if mine.output != theirs.output:
        raise ValueError(f"the network gives {mine.output} per image, expected {theirs.output}")
    for what, got, limit in (
        ("multiply-adds", mine.macs, theirs.macs),
        ("values in its largest activation", mine.largest_activation, theirs.largest_activation),
    ):
        if got > MAX_COST_RATIO * limit:
            raise ValueError(
                f"the network needs {got:,} {what} per image, more than {MAX_COST_RATIO} times "
                f"the original's {limit:,}: the grader does not run it"
            )


@torch.no_grad()
def _predict(net: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    return torch.cat(
        [net(images[i : i + 500]).argmax(dim=1) for i in range(0, images.shape[0], 500)]
    ).to(torch.int64)


@torch.no_grad()
def latency_ratio(
    compressed: torch.nn.Module, original: torch.nn.Module, x: torch.Tensor, runs: int
) -> float:
    """Median eval-mode seconds of ``compressed`` over ``original`` on ``x``, interleaved."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(runs):
        for which, net in enumerate((original, compressed)):
            start = time.perf_counter()
            net(x)
            times[which].append(time.perf_counter() - start)
    return statistics.median(times[1]) / max(statistics.median(times[0]), 1e-9)


def measure(trained: Trained) -> dict[str, float]:
    params = trained.params
    weights, info = trained.fixtures[params.model]
    original_arch = arch.architecture(info["layers"])
    original = modules.build(original_arch, weights)
    description = arch.readable_architecture(trained.facts.get("layers"))
    images = standardise_images(trained.held_out["images"], trained.info)
    affordable(description, original_arch, tuple(images.shape[1:]))
    compressed = modules.build(description, unpack(description, trained.outputs["weights"]))
    labels = trained.held_out["labels"]
    before = accuracy(_predict(original, images), labels)
    after = accuracy(_predict(compressed, images), labels)
    state = compressed.state_dict()
    total = sum(weights[k].numel() for k in original_arch.weight_keys())
    density = weight_density([state[k] for k in description.weight_keys()], total)
    ratio = latency_ratio(compressed, original, images[: params.latency_batch], params.latency_runs)
    return {
        "accuracy_drop": math.nan if before is None or after is None else before - after,
        "weight_density": density,
        "latency_ratio": ratio,
        "accuracy": math.nan if after is None else after,
    }


RECIPE = TrustedRecipe(
    name="compress",
    params=CompressParams,
    produces=("accuracy_drop", "weight_density", "latency_ratio", "accuracy"),
    measure=measure,
    # the student's network may differ from the reference's in every layer: measure validates
    same_state=False,
)
