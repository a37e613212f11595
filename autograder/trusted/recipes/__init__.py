"""Training recipes, the trusted half: how what a worker trained is measured.

Each recipe has an untrusted half of the same name (``untrusted/recipes``) that trains. This
half validates the recipe's ``params`` when the plan is built, and measures the result on
held-out truth that never entered the sandbox: usually by predicting with the grader's own
components from the trained state the worker returned, so held-out inputs never reach
student code either.

To add a recipe: a module here with ``RECIPE = TrustedRecipe(...)``, listed in ``_ENTRIES``,
plus its worker half; the metrics it produces must be registered in ``trusted/metrics.py``.
"""

from __future__ import annotations

from autograder.trusted.recipes import (
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
from autograder.trusted.recipes.base import HeldOut, Params, Trained, TrustedRecipe, expose


def _entries() -> tuple[TrustedRecipe, ...]:
    return (
        mlp.RECIPE,
        custom.RECIPE,
        vae.RECIPE,
        gan.RECIPE,
        unet.RECIPE,
        bag.RECIPE,
        crf_tagger.RECIPE,
        beam.RECIPE,
        compress.RECIPE,
        simclr.RECIPE,
        als.RECIPE,
        implicit_als.RECIPE,
    )


RECIPES: dict[str, TrustedRecipe] = {r.name: r for r in _entries()}


def recipe(name: str) -> TrustedRecipe:
    """The recipe called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown recipe {name!r} (known: {', '.join(sorted(RECIPES))})") from None


__all__ = ["RECIPES", "HeldOut", "Params", "Trained", "TrustedRecipe", "expose", "recipe"]
