"""Reports add up (issue 21, item 4): ``score_exact`` is the truth at every level.

Scores are exact fractions inside the grader. The JSON report also gives each as a float rounded
to 4 places (``score``), and the total's float is the rounded exact sum, not the sum of rounded
task floats, so a script adding those may see a difference in the last place (the README's JSON
section says so). Here, for a real report: checks add up to their task exactly, tasks add up to
the total exactly, and every float is ``points.display_points`` of its exact value.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from autograder.points import PLACES, display_points
from autograder.trusted.engine import Grader

ROOT = Path(__file__).resolve().parent.parent


def test_the_exact_fractions_add_up_and_every_float_is_their_rounding(hw1_grader: Grader) -> None:
    report = hw1_grader.grade(ROOT / "examples" / "hw1_student.py")
    total = Fraction(report.score_exact)
    assert total == sum((Fraction(t.score_exact) for t in report.tasks), Fraction(0))
    assert Fraction(report.max_score_exact) == sum(
        (Fraction(t.max_score_exact) for t in report.tasks), Fraction(0)
    )
    assert report.score == display_points(total)
    assert 0 < total < Fraction(report.max_score_exact)  # a real mix of passed and failed checks
    inexact = 0
    for task in report.tasks:
        exact = Fraction(task.score_exact)
        assert exact == sum((Fraction(c.score_exact) for c in task.checks), Fraction(0)), task.id
        assert Fraction(task.max_score_exact) == sum(
            (Fraction(c.max_score_exact) for c in task.checks), Fraction(0)
        )
        assert task.score == display_points(exact)
        for check in task.checks:
            assert check.score == display_points(Fraction(check.score_exact))
            assert check.max_score == display_points(Fraction(check.max_score_exact))
        inexact += exact != Fraction(str(task.score))
    # The rounded task floats may miss the total by up to half a unit in the last place each:
    # what a script summing them must expect.
    drift = abs(sum(Fraction(str(t.score)) for t in report.tasks) - total)
    assert drift <= Fraction(len(report.tasks), 2 * 10**PLACES)
    assert inexact > 0  # this report has non-terminating task scores (e.g. 5/14 shares)
