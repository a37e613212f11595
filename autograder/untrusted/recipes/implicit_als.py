"""Recipe ``implicit_als`` (Homework 6): implicit-feedback ALS with the submission's
``implicit_als_solve`` inside the grader's own alternating loop.

Every training rating is an observation (p = 1) of strength ``value``: the rating itself
(``confidence = "rating"``) or 1 (``"binary"``). Starting from item factors drawn from the
course secret's generator (N(0, 1) times ``init_scale``), each iteration solves the users, then
the items: ``implicit_als_solve(item_factors, users, items, values, n_users, reg, alpha)`` and
``implicit_als_solve(user_factors, items, users, values, n_items, reg, alpha)``. Each result
must be a float64 tensor of the expected shape before it goes on. Returns the factors by role
(``user_factors``, ``item_factors``); the trusted side ranks every item a user did not rate in
training with its own arithmetic and measures the ranking on the held-out ratings.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.als import factor_matrix, training_triplets
from autograder.untrusted.recipes.common import Budget, component, order_generator


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    users, items, ratings, n_users, n_items = training_triplets(header, tensors)
    values = ratings if params["confidence"] == "rating" else torch.ones_like(ratings)
    k = int(params["factors"])
    reg, alpha = float(params["reg"]), float(params["alpha"])
    item_factors = torch.randn(n_items, k, generator=order_generator(header), dtype=torch.float64)
    item_factors = item_factors * float(params["init_scale"])
    user_factors = torch.zeros(n_users, k, dtype=torch.float64)
    solve = component(module, header, "solve")
    for _ in range(int(params["iterations"])):
        with guard:
            got = solve(
                item_factors, users.clone(), items.clone(), values.clone(), n_users, reg, alpha
            )
            user_factors = factor_matrix(got, (n_users, k), "the user factors")
            got = solve(
                user_factors, items.clone(), users.clone(), values.clone(), n_items, reg, alpha
            )
            item_factors = factor_matrix(got, (n_items, k), "the item factors")
        budget.check()
    outputs = {"state.user_factors": user_factors, "state.item_factors": item_factors}
    return outputs, budget.facts()
