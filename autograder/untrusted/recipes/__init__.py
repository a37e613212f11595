"""Training recipes, the untrusted half of a trained-model (``benchmark``) check.

A recipe trains something built from the submission's components on a dataset's training
split and returns what the trusted half needs to measure it: the trained state
(``state.<name>`` tensors, read by role from the grader's own network), curves
(``curve.<name>``), or, for recipes where the student must predict, ``predictions``. Held-out
inputs and truth never reach this process unless a recipe is registered as exposing them
(``custom``), and then they arrive shuffled by the course secret.

Each recipe registered here has a trusted half of the same name in ``trusted/recipes``
(``tests/test_registries.py`` holds the two tables equal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes import (
    als,
    bag,
    beam,
    compress,
    crf_tagger,
    custom,
    gan,
    implicit_als,
    mlp,
    simclr,
    unet,
    vae,
)

Recipe = Callable[
    [Any, dict[str, Any], dict[str, torch.Tensor], Guard],
    tuple[dict[str, torch.Tensor], dict[str, Any]],
]

RECIPES: dict[str, Recipe] = {
    "mlp": mlp.run,
    "custom": custom.run,
    "vae": vae.run,
    "gan": gan.run,
    "unet": unet.run,
    "compress": compress.run,
    "simclr": simclr.run,
    "bag": bag.run,
    "crf_tagger": crf_tagger.run,
    "beam": beam.run,
    "als": als.run,
    "implicit_als": implicit_als.run,
}


def run_benchmark(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Run the header's recipe (deterministic: seeded, its thread count, deterministic ops)."""
    from autograder.untrusted.failures import ProbeError

    recipe = RECIPES.get(str(header.get("recipe")))
    if recipe is None:
        raise ProbeError("grader error", f"this worker has no recipe {header.get('recipe')!r}")
    torch.manual_seed(int(header["seed"]))
    torch.set_num_threads(int(header.get("threads", 1)))
    torch.use_deterministic_algorithms(True)
    return recipe(module, header, tensors, guard)
