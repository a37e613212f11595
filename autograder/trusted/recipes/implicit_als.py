"""Recipe ``implicit_als`` (Homework 6), trusted half: rank, for every user, every item not
rated in training by the dot product of the factors the student's ``implicit_als_solve``
trained (highest first, ties by the lower item index), and measure the top ``k`` against the
held-out ratings (every held-out rating is a relevant item): NDCG@10 and recall@10, averaged
over the users with a held-out rating. The grader's own arithmetic throughout; the held-out
ratings never entered the sandbox."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from autograder.trusted.metrics import ndcg_at_k, recall_at_k
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe

# the metric names say @10
K = 10


class ImplicitAlsParams(Params):
    factors: int = Field(default=16, ge=1, le=256)
    reg: float = Field(default=10.0, ge=0)
    alpha: float = Field(default=1.0, ge=0)
    iterations: int = Field(default=10, ge=1, le=200)
    # the strength of each observation: its rating, or 1 for every rating
    confidence: Literal["rating", "binary"] = "rating"
    init_scale: float = Field(default=0.1, gt=0)


def masks(users: torch.Tensor, items: torch.Tensor, n_users: int, n_items: int) -> torch.Tensor:
    """bool [n_users, n_items]: True at each (user, item) pair."""
    out = torch.zeros(n_users, n_items, dtype=torch.bool)
    out[users, items] = True
    return out


@torch.no_grad()
def measure(trained: Trained) -> dict[str, float]:
    state, held, info = trained.state(), trained.held_out, trained.info
    n_users, n_items = int(info["users"]), int(info["items"])
    scores = state["user_factors"].double() @ state["item_factors"].double().T
    exclude = masks(held["train_users"], held["train_items"], n_users, n_items)
    relevant = masks(held["users"], held["items"], n_users, n_items)
    return {
        "ndcg_at_10": ndcg_at_k(scores, relevant, K, exclude),
        "recall_at_10": recall_at_k(scores, relevant, K, exclude),
    }


RECIPE = TrustedRecipe(
    name="implicit_als",
    params=ImplicitAlsParams,
    produces=("ndcg_at_10", "recall_at_10"),
    measure=measure,
)
