"""One rounding rule for every place points become text (``autograder.points``)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from autograder.points import (
    decimal_text,
    display_points,
    exact_text,
    fraction_str,
    round_half_up,
    to_fraction,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(85), "85"),
        (Fraction(25, 2), "12.5"),
        (Fraction(1, 3), "0.3333"),
        (Fraction(2, 3), "0.6667"),
        (Fraction(1, 8), "0.125"),
        (Fraction(0), "0"),
        (Fraction(1, 20000), "0.0001"),
        (Fraction(1, 10) + Fraction(2, 10), "0.3"),
        (Fraction(-1, 3), "-0.3333"),
        # half up is toward +infinity, for negative values too (the export once gave -0.0002)
        (Fraction(-3, 20000), "-0.0001"),
        (Fraction(-1, 20000), "0"),
    ],
)
def test_decimal_text_is_exact_and_rounded_half_up(value: Fraction, text: str) -> None:
    assert decimal_text(value) == text
    assert display_points(value) == float(text)


def test_round_half_up_never_rounds_to_even() -> None:
    assert [round_half_up(Fraction(v)) for v in ("8.5", "8.45", "9.5", "-1.5", "-1.51")] == [
        9,
        8,
        10,
        -1,
        -2,
    ]


def test_exact_text_and_fraction_str() -> None:
    assert exact_text(Fraction(85, 2)) == "42.5"
    assert exact_text(Fraction(85, 3)) == "85/3 (~28.3333)"
    assert fraction_str(Fraction(27, 2)) == "27/2" and fraction_str(Fraction(4)) == "4"


@pytest.mark.parametrize(
    ("raw", "value"),
    [(2, Fraction(2)), ("2.5", Fraction(5, 2)), ("5/3", Fraction(5, 3)), (0.1, Fraction(1, 10))],
)
def test_to_fraction(raw, value) -> None:
    assert to_fraction(raw) == value


@pytest.mark.parametrize("raw", ["two", "nan", "inf", "1/0", True, None, [1]])
def test_to_fraction_refuses_what_is_not_a_finite_number(raw) -> None:
    with pytest.raises(ValueError):
        to_fraction(raw)
