"""The final-grade rule in exact arithmetic.

``final_grade`` divides the exact total by the rubric's divisor, rounds half up (8.5 -> 9,
8.45 -> 8; never to even) and caps at the rubric's ``cap``, keeping every step so a breakdown
can show it. How points are rounded and written lives in ``autograder.points``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from autograder.final.rubric import FinalGradeRule
from autograder.points import exact_text, round_half_up


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
