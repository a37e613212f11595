"""What a trusted recipe is: its params model, what it may read when it measures, and how it
declares the metrics it produces (see ``trusted/recipes/__init__.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base of every recipe's params model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, eq=False)
class Trained:
    """What measuring one run may read: the worker's outputs (already validated against the
    reference's), its JSON facts, and the truth only the trusted side holds."""

    outputs: dict[str, torch.Tensor]
    facts: dict[str, Any]
    held_out: dict[str, torch.Tensor]
    info: dict[str, Any]
    params: Any
    # The order exposed held-out inputs were sent in (``exposes``), else None.
    order: torch.Tensor | None = None
    # The fixtures the check named, as its probe carried them: name -> (tensors, JSON info).
    fixtures: dict[str, tuple[dict[str, torch.Tensor], dict[str, Any]]] = field(
        default_factory=dict
    )

    def state(self) -> dict[str, torch.Tensor]:
        """The trained tensors by name, without the ``state.`` prefix."""
        return {k[6:]: v for k, v in self.outputs.items() if k.startswith("state.")}


@dataclass(frozen=True)
class TrustedRecipe:
    name: str
    params: type[BaseModel]
    # metric names ``measure`` returns (each registered in ``trusted/metrics.py``)
    produces: tuple[str, ...]
    measure: Callable[[Trained], dict[str, float]]
    # The student's ``state.*`` tensors must match the reference's name for name, shape and
    # dtype (a fixed architecture); False where the recipe validates its outputs itself.
    same_state: bool = True
    # Held-out inputs this recipe sends into the sandbox, shuffled by the course secret (the
    # ``custom`` recipe's student-written predict); empty for every fixed architecture.
    exposes: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class HeldOut:
    """A dataset's held-out part as the engine holds it for the checks: never sent to a worker
    (except, shuffled by ``order``, the inputs a recipe ``exposes``)."""

    tensors: dict[str, torch.Tensor]
    info: dict[str, Any]
    order: torch.Tensor | None = None
    # which course secret seeded the split and the order ("public development secret" when
    # none is configured), for the report
    secret: str = ""


def expose(
    held_out: dict[str, torch.Tensor], keys: Iterable[str], seed: int
) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
    """The held-out inputs ``keys`` a student-written predict must see, as ``held_out_<key>``,
    in an order only the course secret knows (a permutation drawn with ``seed``), so their
    position says nothing about their label; and that order. ``(None, {})`` for no key."""
    keys = sorted(set(keys))
    if not keys:
        return None, {}
    n = next(iter(held_out.values())).shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order, {f"held_out_{k}": held_out[k][order] for k in keys}
