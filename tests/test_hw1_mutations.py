"""Homework 1: every check can fail alone, and correct solutions in other styles get full marks.

Each file in ``tests/mutants/hw1/`` is the reference solution with one realistic bug (an overlay,
see ``tests/mutants/overlay.py``) aimed at one check (its ``CHECK``). Graded without the
benchmark, a mutant must score exactly 13.5 minus that check's points: the target check fails,
with a message containing the overlay's ``MESSAGE``, and every other check passes. Every check has
at least one mutant (files ``<task>__<check>.py``; extra bugs for a check add ``__<bug>``). All mutants and alternatives are graded in one ``grade_many`` on the
session's warm grader.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path

import pytest
from mutants.overlay import apply_overlay, build, read_overlay

from autograder.report import Report
from autograder.trusted import scoring
from autograder.trusted.engine import Grader

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
MUTANTS = REPO / "tests" / "mutants"
BUGS = sorted((MUTANTS / "hw1").glob("*.py"))
ALTERNATIVES = sorted((MUTANTS / "hw1_alternatives").glob("*.py"))
BENCHMARK_BUGS = sorted((MUTANTS / "hw1_benchmark").glob("*.py"))

# Checks that no submission can fail alone with the current engine; the mutant still exists.
# Checks that no submission can fail alone with the current engine (none today).
NOT_ALONE: dict[str, str] = {}
# Correct alternatives the engine wrongly marks down (none today).
FALSE_FAILS: dict[str, str] = {}


def _params(paths: list[Path], known: dict[str, str]) -> list:
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(strict=True, reason=known[p.stem])])
        if p.stem in known
        else pytest.param(p, id=p.stem)
        for p in paths
    ]


@pytest.fixture(scope="module")
def reports(hw1_grader: Grader, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """Every mutant and alternative, graded once in one grade_many (key: the overlay's stem)."""
    root = tmp_path_factory.mktemp("mutants")
    items = []
    for overlay in [*BUGS, *ALTERNATIVES]:
        folder = root / overlay.stem
        folder.mkdir()
        (folder / "hw1.py").write_text(build(REFERENCE, overlay), encoding="utf-8")
        items.append((overlay.stem, folder / "hw1.py"))
    graded = dict(hw1_grader.grade_many(items))
    assert all(isinstance(r, Report) for r in graded.values()), graded
    return graded


def _numerical_max(grader: Grader) -> Fraction:
    return sum((t.points for t in grader.spec.tasks if not t.is_benchmark), Fraction(0))


def _check_ids(grader: Grader) -> list[str]:
    return [f"{t.id}/{c.id}" for t in grader.spec.tasks if not t.is_benchmark for c in t.checks]


def _failing(report: Report) -> dict[str, str]:
    return {
        f"{t.id}/{c.id}": f"{c.status}: {c.message}"
        for t in report.tasks
        for c in t.checks
        if c.status not in ("passed", "skipped")
    }


def test_every_check_has_a_mutant(hw1_grader: Grader) -> None:
    targets = {p.stem: read_overlay(p).check for p in BUGS}
    assert set(targets.values()) == set(_check_ids(hw1_grader))
    for stem, check in targets.items():
        assert stem.split("__")[:2] == [check.split("/")[0], check.split("/")[1].replace("-", "_")]
        assert read_overlay(MUTANTS / "hw1" / f"{stem}.py").message, f"{stem}: no MESSAGE"
    assert _numerical_max(hw1_grader) == Fraction(27, 2)


@pytest.mark.parametrize("overlay", _params(BUGS, NOT_ALONE))
def test_mutant_loses_exactly_its_check(
    overlay: Path, reports: dict[str, Report], hw1_grader: Grader
) -> None:
    bug = read_overlay(overlay)
    target = bug.check
    task_id, check_id = target.split("/")
    task = hw1_grader.spec.task(task_id)
    share = scoring.check_points(task)[[c.id for c in task.checks].index(check_id)]
    report = reports[overlay.stem]
    failing = _failing(report)
    assert list(failing) == [target], (
        f"{overlay.stem}: expected only {target} to fail, got {failing}"
    )
    check = next(c for c in report.task(task_id).checks if c.id == check_id)
    assert check.status != "passed" and Fraction(check.score_exact) == 0
    assert bug.message in check.message, check.message
    assert Fraction(report.score_exact) == _numerical_max(hw1_grader) - share


@pytest.mark.parametrize("overlay", _params(ALTERNATIVES, FALSE_FAILS))
def test_correct_alternative_gets_full_marks(
    overlay: Path, reports: dict[str, Report], hw1_grader: Grader
) -> None:
    report = reports[overlay.stem]
    assert _failing(report) == {}
    assert Fraction(report.score_exact) == _numerical_max(hw1_grader)


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
    assert Fraction(reference.score_exact) == 15, _failing(reference)
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


@pytest.mark.parametrize("overlay", [*BUGS, *ALTERNATIVES, *BENCHMARK_BUGS], ids=lambda p: p.stem)
def test_overlay_only_replaces_what_the_reference_defines(overlay: Path) -> None:
    """A misspelt name would be appended as a new, unused definition and test nothing."""
    reference = {n.name for n in ast.parse(REFERENCE.read_text()).body if hasattr(n, "name")}
    for node in ast.parse(overlay.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            assert node.name in reference or node.name.startswith("_"), (
                f"{overlay.name}: {node.name}"
            )
    ast.parse(build(REFERENCE, overlay))
