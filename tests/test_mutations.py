"""Every homework: every check can fail alone, and correct solutions in other styles keep full marks.

For each homework ``hwN`` with a folder ``tests/mutants/hwN/``: each file there is the
reference solution with one realistic bug (an overlay, see ``tests/mutants/overlay.py``) aimed
at one check (its ``CHECK = "task/check"``). Graded without the trained-model tasks, a mutant
must score exactly the numerical maximum minus that check's points: the target check fails with
a message containing the overlay's ``MESSAGE``, and every other check passes. Every check has at
least one mutant (files ``<task>__<check>.py``, with ``-`` in ids written ``_``; more bugs for a
check add ``__<bug>``). ``tests/mutants/hwN_alternatives/`` holds correct solutions written
another way, which must keep every point. Each homework's files are graded in one
``grade_many`` on one warm grader.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path

import pytest
from homework_support import failing_checks, numerical_max
from mutants.overlay import build, read_overlay

from autograder.report import Report
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted import scoring
from autograder.trusted.engine import Grader

REPO = Path(__file__).resolve().parents[1]
MUTANTS = REPO / "tests" / "mutants"
HOMEWORKS = sorted(
    p.name
    for p in MUTANTS.iterdir()
    if p.is_dir() and (REPO / "assignments" / f"{p.name}.toml").is_file()
)

# "hw/stem" of checks that no submission can fail alone with the current engine (none today).
NOT_ALONE: dict[str, str] = {}
# "hw/stem" of correct alternatives the engine wrongly marks down (none today).
FALSE_FAILS: dict[str, str] = {}


def _files(hw: str, suffix: str = "") -> list[Path]:
    return sorted((MUTANTS / f"{hw}{suffix}").glob("*.py"))


def _params(suffix: str, known: dict[str, str]) -> list:
    out = []
    for hw in HOMEWORKS:
        for path in _files(hw, suffix):
            key = f"{hw}/{path.stem}"
            marks = [pytest.mark.xfail(strict=True, reason=known[key])] if key in known else []
            out.append(pytest.param(hw, path, id=key, marks=marks))
    return out


def _reference(hw: str) -> Path:
    return REPO / "reference_solutions" / f"{hw}.py"


class _Graded:
    """Per homework, once: a grader without trained-model tasks and every mutant's report."""

    def __init__(self, request: pytest.FixtureRequest, tmp: Path) -> None:
        self.request, self.tmp = request, tmp
        self.reports: dict[str, dict[str, Report]] = {}
        self.graders: dict[str, Grader] = {}

    def grader(self, hw: str) -> Grader:
        if hw not in self.graders:
            if hw == "hw1":
                self.graders[hw] = self.request.getfixturevalue("hw1_grader")
            else:
                assignment = load_assignment(hw, Course(REPO))
                grader = Grader(assignment, skip_benchmarks=True).__enter__()
                self.request.addfinalizer(lambda g=grader: g.__exit__(None, None, None))
                self.graders[hw] = grader
        return self.graders[hw]

    def report(self, hw: str, stem: str) -> Report:
        if hw not in self.reports:
            items = []
            for overlay in [*_files(hw), *_files(hw, "_alternatives")]:
                folder = self.tmp / hw / overlay.stem
                folder.mkdir(parents=True)
                source = build(_reference(hw), overlay)
                path = folder / self.grader(hw).spec.student_file
                path.write_text(source, encoding="utf-8")
                items.append((overlay.stem, path))
            graded = dict(self.grader(hw).grade_many(items))
            assert all(isinstance(r, Report) for r in graded.values()), graded
            self.reports[hw] = graded
        return self.reports[hw][stem]


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> _Graded:
    return _Graded(request, tmp_path_factory.mktemp("mutants"))


def _check_ids(grader: Grader) -> list[str]:
    return [f"{t.id}/{c.id}" for t in grader.spec.tasks if not t.is_benchmark for c in t.checks]


@pytest.mark.parametrize("hw", HOMEWORKS)
def test_every_check_has_a_mutant(hw: str, graded: _Graded) -> None:
    grader = graded.grader(hw)
    targets = {p.stem: read_overlay(p).check for p in _files(hw)}
    assert set(targets.values()) == set(_check_ids(grader)), (
        f"checks without a mutant: {sorted(set(_check_ids(grader)) - set(targets.values()))}"
    )
    for stem, check in targets.items():
        task_id, check_id = check.split("/")
        assert stem.split("__")[:2] == [task_id, check_id.replace("-", "_")], stem
        assert read_overlay(_files(hw)[0].parent / f"{stem}.py").message, f"{stem}: no MESSAGE"


@pytest.mark.parametrize(("hw", "overlay"), _params("", NOT_ALONE))
def test_mutant_loses_exactly_its_check(hw: str, overlay: Path, graded: _Graded) -> None:
    grader = graded.grader(hw)
    bug = read_overlay(overlay)
    task_id, check_id = bug.check.split("/")
    task = grader.spec.task(task_id)
    share = scoring.check_points(task)[[c.id for c in task.checks].index(check_id)]
    report = graded.report(hw, overlay.stem)
    failing = failing_checks(report, with_status=True)
    assert list(failing) == [bug.check], f"{overlay.stem}: expected only {bug.check}, got {failing}"
    check = next(c for c in report.task(task_id).checks if c.id == check_id)
    assert check.status != "passed" and Fraction(check.score_exact) == 0
    if task.visibility == "public":
        assert bug.message in check.message, check.message
    else:  # a hidden check says nothing of its inputs or of what it wanted
        assert check.message == "" and check.detail == "", (check.message, check.detail)
    assert Fraction(report.score_exact) == numerical_max(grader) - share


@pytest.mark.parametrize(("hw", "overlay"), _params("_alternatives", FALSE_FAILS))
def test_correct_alternative_gets_full_marks(hw: str, overlay: Path, graded: _Graded) -> None:
    report = graded.report(hw, overlay.stem)
    assert failing_checks(report, with_status=True) == {}
    assert Fraction(report.score_exact) == numerical_max(graded.grader(hw))


@pytest.mark.parametrize(
    ("hw", "overlay"),
    [
        pytest.param(hw, p, id=f"{hw}/{p.parent.name}/{p.stem}")
        for hw in HOMEWORKS
        for suffix in ("", "_alternatives", "_benchmark")
        for p in _files(hw, suffix)
    ],
)
def test_overlay_only_replaces_what_the_reference_defines(hw: str, overlay: Path) -> None:
    """A misspelt name would be appended as a new, unused definition and test nothing."""
    reference = {n.name for n in ast.parse(_reference(hw).read_text()).body if hasattr(n, "name")}
    for node in ast.parse(overlay.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            assert node.name in reference or node.name.startswith("_"), (
                f"{overlay.name}: {node.name}"
            )
    ast.parse(build(_reference(hw), overlay))
