"""``autograder check`` as a student runs it: a subprocess, its exit code, stdout and stderr.

Grading runs exit 0 whatever the score; only a grader that cannot run (unknown assignment, a
missing or non-Python file) exits 2 with one ``error:`` line and no traceback. The fast failures
run concurrently (each pays ~4 s for ``import torch``); two real grading runs follow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mutants.overlay import build

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
HOSTILE = REPO / "tests" / "hostile_submissions"


def _start(*args: str, umask: int | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "check", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=-1 if umask is None else umask,
    )


def _finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=240)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def refusals(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[str, subprocess.CompletedProcess]]:
    """Runs the grader refuses before grading anything, started together."""
    folder = tmp_path_factory.mktemp("refusals")
    missing = str(folder / "hw1.py")
    cases = {
        "missing file": (missing, ["hw1", missing, "--skip-benchmarks"]),
        "missing file, json": (missing, ["hw1", missing, "--json"]),
        "not python": (
            str(HOSTILE / "whole" / "not_python.txt"),
            ["hw1", str(HOSTILE / "whole" / "not_python.txt")],
        ),
        "folder": (str(folder), ["hw1", str(folder)]),
        "unknown assignment": ("hw99", ["hw99", str(REFERENCE)]),
    }
    procs = {name: (subject, _start(*args)) for name, (subject, args) in cases.items()}
    return {name: (subject, _finish(proc)) for name, (subject, proc) in procs.items()}


@pytest.mark.parametrize(
    "case, problem",
    [
        ("missing file", "no such file"),
        ("missing file, json", "no such file"),
        ("not python", "not a Python file (expected a .py file)"),
        ("folder", "is a folder, expected a .py file"),
        ("unknown assignment", "unknown assignment 'hw99' (known in"),
    ],
)
def test_grader_that_cannot_run_exits_2_with_one_line(refusals, case: str, problem: str) -> None:
    subject, result = refusals[case]
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and problem in lines[0] and subject in lines[0]
    assert "Traceback" not in result.stderr
    if case == "unknown assignment":
        assert "hw1" in lines[0]  # the known assignments are listed


def test_json_report_survives_fake_output(tmp_path: Path) -> None:
    """A submission printing fake JSON at import and while graded cannot touch --json's stdout."""
    submission = tmp_path / "hw1.py"
    submission.write_text(build(REFERENCE, HOSTILE / "overlays" / "fake_output.py"))
    result = _finish(_start("hw1", str(submission), "--skip-benchmarks", "--json"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert {"assignment", "score", "max_score", "tasks"} <= set(report)
    assert (report["assignment"], report["score"], report["max_score"]) == ("hw1", 13.5, 15)
    assert len(report["tasks"]) == 8
    for task in report["tasks"]:
        assert {"id", "symbols", "score", "max_score", "status", "message"} <= set(task)
        assert isinstance(task["symbols"], list) and task["symbols"]
    by_id = {t["id"]: t for t in report["tasks"]}
    assert by_id["losses"]["symbols"] == ["softmax", "log_softmax", "cross_entropy", "mse_loss"]
    assert by_id["benchmark-catdog"]["status"] == "skipped"
    assert all(t["status"] == "passed" for i, t in by_id.items() if i != "benchmark-catdog")
    assert "Total: 15 / 15" in report["stdout_tail"]


def test_strict_umask_still_lets_the_worker_read_the_submission() -> None:
    """A TA's umask 077 must not make the staged copy unreadable to the sandbox uid (every
    submission then failed to import: "Permission denied", 0 points)."""
    result = _finish(_start("hw1", str(REFERENCE), "--skip-benchmarks", "--json", umask=0o077))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["submission_status"] == "graded", report["submission_message"]
    graded = [t for t in report["tasks"] if t["status"] != "skipped"]
    assert all(t["status"] == "passed" for t in graded), [t["message"] for t in graded]
    assert report["score"] == 13.5  # 15 less the skipped benchmark


def test_table_report_for_a_crashing_submission(tmp_path: Path) -> None:
    """Exit 0 for a graded submission with a crash; the table names the crash and the total."""
    submission = tmp_path / "hw1.py"
    submission.write_text(build(REFERENCE, HOSTILE / "overlays" / "segfault_in_tanh.py"))
    result = _finish(_start("hw1", str(submission), "--skip-benchmarks"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "crashed: signal 11 (SIGSEGV)" in out
    assert "0 / 2" in out and "2 / 2" in out  # activations lost, losses kept
    assert "Total: 11.5 / 15" in out


def test_table_prints_paths_and_student_text_literally() -> None:
    """Rich markup in a path or in a student's exception message is text, never markup."""
    import io

    from report_factory import make_report
    from rich.console import Console

    from autograder.views.console import render_report

    base = make_report(
        submission_status="import error", submission_message="ValueError: [/red] [bold]x"
    )
    first = base.tasks[0].model_copy(update={"message": "input [randn(3, 4), randn(5,)]: [/]"})
    report = base.model_copy(
        update={"submission": "/abs/[b]hw1.py", "tasks": [first, *base.tasks[1:]]}
    )
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=120), verbose=True)
    out = buffer.getvalue()
    assert "[/abs/[b]hw1.py]" in out
    assert "input [randn(3, 4), randn(5,)]: [/]" in out
    assert "import error: ValueError: [/red] [bold]x" in out


def test_check_starts_its_worker_before_it_imports_torch() -> None:
    """The zygote and the grader each import torch (seconds); ``check`` launches the zygote
    first so the two overlap. Importing the command, or the worker launcher, must not pull
    torch in."""
    code = (
        "import sys\n"
        "import autograder.commands.check, autograder.trusted.supervisor, autograder.batch.intake\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "False"
