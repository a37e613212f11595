"""Recipe ``als`` (Homework 6), trusted half: predict the held-out ratings from the factors the
student's ``als_fit`` trained, with the grader's own arithmetic: the dot product of the user's and the item's factors,
clipped to the rating scale. Measured by RMSE, lower is better. The held-out ratings never entered the
sandbox."""

from __future__ import annotations

import torch
from pydantic import Field

from autograder.trusted.metrics import rmse
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe


class AlsParams(Params):
    factors: int = Field(default=10, ge=1, le=256)
    reg: float = Field(default=0.1, ge=0)
    iterations: int = Field(default=15, ge=1, le=200)
    weighted: bool = True
    init_scale: float = Field(default=0.1, gt=0)


@torch.no_grad()
def predict(
    state: dict[str, torch.Tensor],
    users: torch.Tensor,
    items: torch.Tensor,
    info: dict,
) -> torch.Tensor:
    """Predicted ratings (float64 [n]) of the (user, item) pairs, clipped to the rating scale."""
    u, v = state["user_factors"].double(), state["item_factors"].double()
    pred = (u[users] * v[items]).sum(1)
    return pred.clamp(float(info["rating_min"]), float(info["rating_max"]))


def measure(trained: Trained) -> dict[str, float]:
    held = trained.held_out
    pred = predict(trained.state(), held["users"], held["items"], trained.info)
    # clamp passes NaN through: a model with NaN factors measures NaN, which earns nothing
    return {"rmse": rmse(pred, held["ratings"])}


RECIPE = TrustedRecipe(name="als", params=AlsParams, produces=("rmse",), measure=measure)
