"""Recipe ``als`` (Homework 6): factorise the training ratings with the submission's ``als_fit``.

The student's ``als_fit(users, items, ratings, n_users, n_items, init_item_factors, reg,
iterations, weighted=weighted)`` receives the training split's COO triplets (ratings in float64) and
initial item factors drawn from the course secret's generator (N(0, 1) times ``init_scale``).
It returns the trained factors by role (``user_factors`` [n_users, factors], ``item_factors``
[n_items, factors]) and its loss history as a curve; the trusted side predicts the held-out
ratings from the factors with its own arithmetic.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    train_split,
)


def factor_matrix(value: Any, shape: tuple[int, int], what: str) -> torch.Tensor:
    """A plain float64 copy of ``value``, which must be a float64 tensor of ``shape``; a
    ``ProbeError`` the student can read otherwise. Call it under the guard (``value`` is the
    student's object)."""
    if not isinstance(value, torch.Tensor):
        raise ProbeError("error", f"{what} is a {type(value).__name__}, expected a torch.Tensor")
    if tuple(value.shape) != shape or value.dtype != torch.float64:
        raise ProbeError(
            "error",
            f"{what} is {str(value.dtype).replace('torch.', '')} {tuple(value.shape)}, "
            f"expected float64 {shape}",
        )
    return value.detach().as_subclass(torch.Tensor).clone()


def training_triplets(
    header: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, int]:
    """(users, items int64, ratings float64, n_users, n_items) of the training split."""
    data = train_split(header, tensors)
    info = header["data_info"]
    return (
        data["users"],
        data["items"],
        data["ratings"].to(torch.float64),
        int(info["users"]),
        int(info["items"]),
    )


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    users, items, ratings, n_users, n_items = training_triplets(header, tensors)
    k, iterations = int(params["factors"]), int(params["iterations"])
    init = torch.randn(n_items, k, generator=order_generator(header), dtype=torch.float64)
    init = init * float(params["init_scale"])
    fit = component(module, header, "fit")
    with guard:
        result = fit(
            users.clone(),
            items.clone(),
            ratings.clone(),
            n_users,
            n_items,
            init,
            float(params["reg"]),
            iterations,
            weighted=bool(params["weighted"]),
        )
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise ProbeError("error", "als_fit must return (user_factors, item_factors, history)")
        user_factors = factor_matrix(result[0], (n_users, k), "the user factors")
        item_factors = factor_matrix(result[1], (n_items, k), "the item factors")
        history = result[2]
        if not isinstance(history, torch.Tensor) or history.numel() > 10_000:
            raise ProbeError("error", "the loss history must be a tensor of one loss per iteration")
        history = history.detach().as_subclass(torch.Tensor).to(torch.float64).reshape(-1)
    budget.check()
    outputs = {
        "state.user_factors": user_factors,
        "state.item_factors": item_factors,
        "curve.loss": curve(history.tolist()),
    }
    return outputs, budget.facts()
