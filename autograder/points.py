"""Points, exactly: the one place that parses, rounds and writes them.

Points are ``Fraction``s everywhere inside the grader, so sums never drift. They become text
only here: ``fraction_str`` (``"27/2"``, the exact value in reports), ``display_points`` (a float
rounded to 4 places for JSON readers), ``decimal_text`` (exact decimals for spreadsheets and
people, rounded half up at 4 places) and ``exact_text`` (a decimal when that is exact, else the
fraction with its decimal). Half up means toward +infinity at exactly one half, for negative
values too: -0.00015 -> "-0.0001", 8.5 -> 9, 8.45 -> 8.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

PLACES = 4


def to_fraction(value: Any) -> Fraction:
    """Ints, decimal or ``"p/q"`` strings, fractions; floats by their decimal text (0.1 -> 1/10).

    Raises:
        ValueError: with a message fit for a located spec or rubric error.
    """
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, (float, str)):
        try:
            result = Fraction(repr(value) if isinstance(value, float) else value.strip())
        except (ValueError, ZeroDivisionError, OverflowError):
            raise ValueError(f"{value!r} is not a finite number") from None
        return result
    raise ValueError(f"must be a number, got {type(value).__name__}")


def fraction_str(value: Fraction) -> str:
    """``Fraction(2, 3)`` -> ``"2/3"``; integers without a denominator."""
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def parse_fraction(text: str) -> Fraction:
    """Inverse of :func:`fraction_str`."""
    return Fraction(text)


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves up: 8.5 -> 9, 8.45 -> 8, -1.5 -> -1 (never to even)."""
    return math.floor(value + Fraction(1, 2))


def decimal_text(value: Fraction, places: int = PLACES) -> str:
    """``85``, ``12.5``, ``0.3333``: exact, rounded half up at ``places``, no trailing zeros."""
    scaled = round_half_up(value * 10**places)
    whole, frac = divmod(abs(scaled), 10**places)
    text = f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
    return "-" + text if scaled < 0 else text


def exact_text(value: Fraction) -> str:
    """The decimal when it is exact within ``PLACES`` places, else ``85/3 (~28.3333)``."""
    text = decimal_text(value)
    return text if Fraction(text) == value else f"{fraction_str(value)} (~{text})"


def shares(total: Fraction, weights: list[Any]) -> list[Fraction]:
    """``total`` split in proportion to ``weights`` (read by their decimal text), exactly: the
    shares add up to ``total``. How a task's points are split over its checks."""
    exact = [to_fraction(w) for w in weights]
    whole = sum(exact, Fraction(0))
    return [total * w / whole for w in exact]


def display_points(value: Fraction) -> float:
    """Points for JSON readers: the ``decimal_text`` value as a float; the exact value is kept
    beside it (``score_exact``), so sums of rounded task scores may differ in the last place."""
    return float(decimal_text(value))
