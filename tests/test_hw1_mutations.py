"""Homework 1 beyond the shared mutation harness (``tests/test_mutations.py``): the overlay tool
itself, and the benchmark noticing broken components (a slow, real training run).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from homework_support import failing_checks
from mutants.overlay import apply_overlay, build

from autograder.report import Report
from autograder.trusted.engine import Grader

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
MUTANTS = REPO / "tests" / "mutants"
BENCHMARK_BUGS = sorted((MUTANTS / "hw1_benchmark").glob("*.py"))


def test_overlay_replaces_functions_patches_methods_and_appends() -> None:
    reference = (
        "import math\n\n\ndef f(x):\n    return 1\n\n\nclass C:\n"
        "    def a(self):\n        return 1\n\n    @staticmethod\n    def b():\n        return 2\n"
    )
    overlay = (
        '"""doc"""\nimport os\n\nCHECK = "t/c"\n\n\ndef f(x):\n    return 10\n\n\nclass C:\n'
        "    @staticmethod\n    def b():\n        return 20\n\n    def new(self):\n        return 3\n\n\n"
        "def g():\n    return 4\n\n\nprint('at import')\n"
    )
    out = apply_overlay(reference, overlay)
    namespace: dict = {}
    exec(compile(out, "<overlay>", "exec"), namespace)  # our own test data, not a submission
    assert namespace["f"](0) == 10 and namespace["g"]() == 4
    c = namespace["C"]()
    assert (c.a(), c.b(), c.new()) == (1, 20, 3)
    assert "import os" in out and "CHECK" not in out and '"""doc"""' not in out
    assert out.index("def g") < out.index("print('at import')")


@pytest.mark.slow
def test_reference_full_marks_and_benchmark_notices_broken_components(
    data_root: Path, tmp_path: Path
) -> None:
    """The reference gets 15/15 with the benchmark; zeroed init, a no-op optimizer and an
    identity relu each train a worse network and get fewer benchmark points (one grade_many)."""
    from autograder.spec.course import Course
    from autograder.spec.load import load_assignment

    items = [("reference", REFERENCE)]
    for overlay in BENCHMARK_BUGS:
        (tmp_path / overlay.stem).mkdir()
        path = tmp_path / overlay.stem / "hw1.py"
        path.write_text(build(REFERENCE, overlay), encoding="utf-8")
        items.append((overlay.stem, path))
    assignment = load_assignment("hw1", Course(REPO))
    with Grader(assignment, workers=2, data_root=str(data_root), require_data=True) as grader:
        graded = dict(grader.grade_many(items))
    reference = graded.pop("reference")
    assert isinstance(reference, Report)
    assert Fraction(reference.score_exact) == 15, failing_checks(reference, with_status=True)
    bench_max = Fraction(reference.task("benchmark-catdog").score_exact)
    assert bench_max == Fraction(3, 2)
    ref_acc = reference.task("benchmark-catdog").checks[0].metrics["accuracy"]
    assert (
        set(graded)
        == {p.stem for p in BENCHMARK_BUGS}
        == {"zero_init", "frozen_adam", "identity_relu"}
    )
    for name, report in graded.items():
        task = report.task("benchmark-catdog")
        metrics = task.checks[0].metrics
        assert Fraction(task.score_exact) < bench_max, (name, task.message)
        assert metrics["accuracy"] < ref_acc - 0.02, (name, metrics["accuracy"], ref_acc)
        assert metrics["reference_accuracy"] == ref_acc
        assert "test accuracy" in task.checks[0].message
