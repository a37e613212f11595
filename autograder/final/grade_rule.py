"""The final-grade rule in exact arithmetic, and how points are written for people.

``final_grade`` divides the exact total by the rubric's divisor, rounds half up (8.5 -> 9,
8.45 -> 8; never to even) and caps at the rubric's ``cap``, keeping every step so a breakdown
can show it. Points are ``Fraction``s throughout; only ``decimal_text`` rounds, for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from autograder.final.rubric import FinalGradeRule
from autograder.report import fraction_str


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves up: 8.5 -> 9, 8.45 -> 8 (never to even)."""
    return math.floor(value + Fraction(1, 2))


def decimal_text(value: Fraction, places: int = 4) -> str:
    """``12.5``, ``85``; values with more decimals are rounded half up to ``places``."""
    scaled = round_half_up(value * 10**places)
    whole, frac = divmod(abs(scaled), 10**places)
    text = f"{whole}.{frac:0{places}d}".rstrip("0").rstrip(".")
    return "-" + text if scaled < 0 else text


def exact_text(value: Fraction) -> str:
    """Decimal when exact within 4 places, else ``85/3 (~28.3333)``."""
    text = decimal_text(value)
    return text if Fraction(text) == value else f"{fraction_str(value)} (~{text})"


@dataclass(frozen=True)
class FinalGrade:
    """How the total becomes the grade, step by step."""

    total: Fraction
    divisor: Fraction
    quotient: Fraction
    rounded: int
    grade: int
    cap: int | None

    @property
    def capped(self) -> bool:
        return self.grade != self.rounded

    def explain(self) -> str:
        text = (
            f"{exact_text(self.total)} / {exact_text(self.divisor)} = "
            f"{exact_text(self.quotient)} -> rounded half up: {self.rounded}"
        )
        return text + (f" -> capped at {self.cap}" if self.capped else "")


def final_grade(total: Fraction, rule: FinalGradeRule) -> FinalGrade:
    """Apply the rubric's final-grade rule to an exact total."""
    quotient = Fraction(total) / rule.divisor
    rounded = round_half_up(quotient)
    grade = rounded if rule.cap is None else min(rounded, rule.cap)
    return FinalGrade(Fraction(total), rule.divisor, quotient, rounded, grade, rule.cap)
