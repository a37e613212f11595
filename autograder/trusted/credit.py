"""Credit rules: how a measured metric becomes a fraction of a trained-model check's points.

``relative``: full credit within ``tolerance`` of the reference recipe's own value (a correct
submission that draws from the RNG differently behaves like another seed), none at or beyond
``floor``, linear in between. ``absolute``: full credit at or beyond ``full``, none at or beyond
``floor``. Both read the metric's direction: for "lower is better" metrics (RMSE, a negative
ELBO) ``floor`` is the worst value still worth nothing and lies above the full-credit point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from autograder.trusted.metrics import Direction


@dataclass(frozen=True)
class Band:
    """Where credit is full and where it is zero, in the metric's own units."""

    full_at: float
    zero_at: float
    direction: Direction

    def fraction(self, value: float) -> Fraction:
        """Linear credit between the two points, clamped to [0, 1]; NaN earns nothing.

        Rounded to 4 decimals, so the same measurement always gives the same exact points.
        """
        if value is None or math.isnan(value):
            return Fraction(0)
        sign = 1.0 if self.direction == "higher" else -1.0
        v, full, zero = sign * value, sign * self.full_at, sign * self.zero_at
        if v >= full:
            return Fraction(1)
        if v <= zero or full <= zero:
            return Fraction(0)
        return Fraction(round((v - zero) / (full - zero), 4)).limit_denominator(10000)


def relative(
    direction: Direction, reference: float, tolerance: float, floor: float, full: float | None
) -> Band:
    """Full credit within ``tolerance`` of the reference's value."""
    del full
    return Band(
        reference - tolerance if direction == "higher" else reference + tolerance, floor, direction
    )


def absolute(
    direction: Direction, reference: float, tolerance: float, floor: float, full: float | None
) -> Band:
    """Full credit at ``full``, whatever the reference reached."""
    del reference, tolerance
    if full is None:
        raise ValueError("the absolute credit rule needs 'full'")
    return Band(full, floor, direction)


RULES: dict[str, Callable[..., Band]] = {"relative": relative, "absolute": absolute}


def band(
    rule: str,
    direction: Direction,
    *,
    reference: float,
    tolerance: float,
    floor: float,
    full: float | None = None,
) -> Band:
    """The band of ``rule`` for a metric with ``direction`` (``KeyError`` for unknown rules)."""
    return RULES[rule](direction, reference, tolerance, floor, full)
