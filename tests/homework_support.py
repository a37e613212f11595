"""What the per-homework tests (``test_hw2.py`` .. ``test_hw6.py``) do alike: load our reference as
a module, start a warm grader, list a report's failing checks, run the CLI in a subprocess, and
the kit and batch-then-final round trips. Each test keeps its own assertions and expectations;
these helpers hold only the mechanics (and assert only that a CLI command exited 0).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest
import torch
from mutants.overlay import build

from autograder.report import Report
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted.checks.outcome import ProbePair
from autograder.trusted.engine import Grader
from autograder.trusted.probe import Probe
from autograder.trusted.raw import ProbeRaw

REPO = Path(__file__).resolve().parents[1]


def homework_files(hw: str) -> tuple[Path, Path, list[Path]]:
    """The reference solution, the example submission and the benchmark mutants of ``hw``."""
    return (
        REPO / "reference_solutions" / f"{hw}.py",
        REPO / "examples" / f"{hw}_student.py",
        sorted((REPO / "tests" / "mutants" / f"{hw}_benchmark").glob("*.py")),
    )


def load_module(path: Path, name: str) -> ModuleType:
    """Our own reference solution as a module (trusted test code, never a submission)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_fixture(hw: str):
    """A module-scoped ``ref`` fixture: ``hw``'s reference solution as a module."""

    @pytest.fixture(scope="module", name="ref")
    def ref() -> ModuleType:
        return load_module(REPO / "reference_solutions" / f"{hw}.py", f"{hw}_reference")

    return ref


def warm_grader(hw: str, workers: int = 2):
    """A module-scoped ``<hw>_grader`` fixture: one grader without benchmarks, its workers kept
    warm for every test of the module that grades in-process."""

    @pytest.fixture(scope="module", name=f"{hw}_grader")
    def grader():
        assignment = load_assignment(hw, Course(REPO))
        with Grader(assignment, skip_benchmarks=True, workers=workers) as warm:
            yield warm

    return grader


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-10, atol: float = 1e-10) -> None:
    torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


def numerical_max(grader: Grader) -> Fraction:
    """The points of every task but the benchmarks (what a grader with them skipped can give)."""
    return sum((t.points for t in grader.spec.tasks if not t.is_benchmark), Fraction(0))


def failing_checks(report: Report, with_status: bool = False) -> dict[str, str]:
    """``task/check`` -> message of each check that neither passed nor was skipped (the message
    led by the check's status with ``with_status``)."""
    return {
        f"{t.id}/{c.id}": f"{c.status}: {c.message}" if with_status else c.message
        for t in report.tasks
        for c in t.checks
        if c.status not in ("passed", "skipped")
    }


def assert_fails_exactly(report: Report, expected: dict[str, str]) -> None:
    """The checks ``report`` fails are exactly ``expected``'s keys, each message holding its
    fragment; a fragment of ``""`` is a hidden check, whose message must be empty."""
    failing = failing_checks(report)
    assert set(failing) == set(expected), failing
    for check, fragment in expected.items():
        if fragment:
            assert fragment in failing[check], (check, failing[check])
        else:
            assert failing[check] == "", (check, failing[check])


def probe_pair(
    student: dict[str, torch.Tensor],
    reference: dict[str, torch.Tensor],
    student_facts: dict | None = None,
    reference_facts: dict | None = None,
) -> ProbePair:
    """One probe's raw results, student's and reference's, as an evaluator receives them."""
    return ProbePair(
        Probe("t/c/0", "t", "c", {"label": "case"}),
        ProbeRaw("ok", outputs=student, facts=student_facts or {}),
        ProbeRaw("ok", outputs=reference, facts=reference_facts or {}),
    )


def without_clocks(metrics: dict) -> dict:
    """A benchmark's metrics less its clock readings (train and task seconds, slowed_by_machine),
    which vary between runs."""
    return {
        k: v for k, v in metrics.items() if not k.endswith("_seconds") and k != "slowed_by_machine"
    }


def benchmark_items(hw: str, tmp_path: Path) -> list[tuple[str, Path]]:
    """Each benchmark mutant of ``hw`` written over the reference, as grade_many items."""
    reference, _, overlays = homework_files(hw)
    items = []
    for overlay in overlays:
        (tmp_path / overlay.stem).mkdir()
        path = tmp_path / overlay.stem / f"{hw}.py"
        path.write_text(build(reference, overlay), encoding="utf-8")
        items.append((overlay.stem, path))
    return items


# -- the CLI, as students, TAs and staff run it ----------------------------------------------------


def cli(*args: str, cwd: Path = REPO, timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli_ok(*args: str, cwd: Path = REPO) -> str:
    """``cli`` that must exit 0: its standard output."""
    done = cli(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_json(hw: str, submission: Path) -> dict:
    """``autograder check hw SUBMISSION --skip-benchmarks --json``: the report."""
    return json.loads(cli_ok("check", hw, str(submission), "--skip-benchmarks", "--json"))


def build_kit(hw: str, tmp_path: Path) -> tuple[Path, str]:
    """``autograder kit hw`` into ``tmp_path/<hw>-kit``: the kit and its template's text."""
    kit = tmp_path / f"{hw}-kit"
    cli_ok("kit", hw, "--out", str(kit))
    return kit, (kit / f"{hw}.py").read_text()


def check_from_kit(hw: str, kit: Path, work: Path, source: str) -> dict:
    """``source`` saved as ``work/<hw>.py`` and checked there from the kit alone: the report."""
    work.mkdir(exist_ok=True)
    (work / f"{hw}.py").write_text(source)
    return json.loads(cli_ok("check", hw, f"{hw}.py", "--kit", str(kit), "--json", cwd=work))


def batch_then_final(hw: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    """s1 hands in the reference and s2 the example; ``autograder batch`` grades both (benchmarks
    skipped) into ``tmp_path/gradebook.sqlite`` (added to, if a test wrote it first), and
    ``final`` adds an exam (s1 30 points, s2 20): the final CSV's rows by student id."""
    reference, example, _ = homework_files(hw)
    folder = tmp_path / "submissions"
    for student, source in (("s1", reference), ("s2", example)):
        (folder / student).mkdir(parents=True)
        (folder / student / f"{hw}.py").write_text(source.read_text())
    db = tmp_path / "gradebook.sqlite"
    cli_ok("batch", hw, str(folder), "--db", str(db), "--skip-benchmarks", "--workers", "1")
    exam = tmp_path / "exam.csv"
    exam.write_text("student_id,points\ns1,30\ns2,20\n")
    out = tmp_path / "final.csv"
    cli_ok("final", "--db", str(db), "--exam", str(exam), "--out", str(out))
    with out.open() as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}
