"""The metric registry: what a trained-model check can measure, and which way is better.

Metrics are computed on the trusted side only, from predictions the grader's own components
made (or from outputs the trusted side has validated) against truth that never entered the
sandbox. Each has a direction, so one credit rule serves accuracy (higher is better) and RMSE
or a negative ELBO (lower is better). A recipe (``trusted/recipes``) says which metrics it
produces; a spec credits them by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    """A measurement a spec can credit: ``percent`` metrics are fractions shown as %."""

    name: str
    label: str
    direction: Direction
    percent: bool = False
    # A reusable implementation recipes call (and tests hold against an independent oracle).
    fn: Callable[..., float] | None = None

    def show(self, value: float) -> str:
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        return f"{value:.2%}" if self.percent else f"{value:.4g}"

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is at least as good as ``b``."""
        return a >= b if self.direction == "higher" else a <= b


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of correct class predictions; None when the predictions are malformed
    (another shape than the labels, or not int64)."""
    if predictions.shape != labels.shape or predictions.dtype != torch.int64:
        return None
    if labels.numel() == 0:
        return float("nan")
    return float((predictions == labels).double().mean())


_METRICS = (Metric("accuracy", "test accuracy", "higher", percent=True, fn=accuracy),)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def metric(name: str) -> Metric:
    """The metric called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))})") from None
