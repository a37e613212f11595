"""Broken and hostile submissions through the real engine: each gets a clear per-task status and
message, and every task it does not touch is still graded in full.

Overlay attacks (``tests/hostile_submissions/overlays``) are spliced into the reference, so the
expected report is "full marks except the attacked task". Whole-file cases
(``tests/hostile_submissions/whole``) are graded as they are. All are graded in one grade_many on
the session's warm grader; the hanging function gets its own grader with a 2-second task limit.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from mutants.overlay import build

from autograder.errors import SubmissionError
from autograder.report import Report
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted import scoring
from autograder.trusted.engine import Grader

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
HOSTILE = REPO / "tests" / "hostile_submissions"
OVERLAYS = sorted(p for p in (HOSTILE / "overlays").glob("*.py") if p.stem != "hang_in_tanh")
# every whole file but the non-Python one; syntax_error.pysrc is not named .py so linters skip it
WHOLE = sorted(p for p in (HOSTILE / "whole").iterdir() if p.suffix in (".py", ".pysrc"))
# too big or too odd to keep as files: written into the test's folder
GENERATED = {
    # the parser itself runs out of memory; once crashed the trusted process with a traceback
    "nested_too_deep": "x = " + "-" * 100_000 + "1\n",
    # The scan read UTF-8 (a comment on the last line) while the worker imported UTF-7, where
    # "+AAo-" is a newline: the comment became code. Only UTF-8 is accepted now, on both sides.
    "coding_cookie_utf7": (
        "# -*- coding: utf-7 -*-\n"
        "import torch\n\n\n"
        "def softmax(z, dim=-1):\n"
        "    e = torch.exp(z - z.amax(dim=dim, keepdim=True))\n"
        "    return e / e.sum(dim=dim, keepdim=True)\n"
        "#+AAo-softmax = torch.softmax\n"
    ),
}

# overlay -> {task: (status, message fragment, points kept)}; every other task: passed, full points.
EXPECT: dict[str, dict[str, tuple[str, str, Fraction]]] = {
    "segfault_in_tanh": {"activations": ("crashed", "crashed: signal 11 (SIGSEGV)", Fraction(0))},
    "os_exit_in_mse": {"losses": ("crashed", "crashed: exit code 0", Fraction(0))},
    "sys_exit_in_relu": {"activations": ("partial", "called sys.exit(4)", Fraction(8, 5))},
    "fake_output": {},
    "monkeypatch_torch": {"activations": ("partial", "sigmoid-forward", Fraction(8, 5))},
    "lying_tensor": {"activations": ("partial", "sigmoid-forward", Fraction(8, 5))},
    "wrong_outputs": {"activations": ("error", "sigmoid returned list", Fraction(0))},
    "exotic_tensors": {"activations": ("partial", "sigmoid-forward", Fraction(6, 5))},
}
# Forbidden-API attacks: overlay -> {task: (message fragment, the symbols whose checks pay, or
# ALL)}. Those checks get "forbidden API" and 0, the task's other checks and every other task
# keep all their points (issue 21: a forbidden call costs its own function).
ALL = None
TAMPERED = "tampers with the grader's forbidden-API guard"
FORBIDDEN: dict[str, dict[str, tuple[str, frozenset[str] | None]]] = {
    "forbid_torch_softmax": {"losses": ("uses torch.softmax (line", frozenset({"softmax"}))},
    "forbid_method_softmax": {"losses": ("torch.Tensor.softmax", frozenset({"softmax"}))},
    "forbid_functional_softmax": {
        "losses": ("torch.nn.functional.softmax", frozenset({"softmax"}))
    },
    "forbid_module_softmax": {"losses": ("torch.nn.Softmax", frozenset({"softmax"}))},
    "forbid_alias_import": {"losses": ("uses torch.softmax", frozenset({"softmax"}))},
    "forbid_module_level_alias": {"losses": ("uses torch.softmax", frozenset({"softmax"}))},
    "forbid_computed_getattr": {
        "losses": ("getattr(torch, <computed name>)", frozenset({"softmax"}))
    },
    "forbid_eval": {"losses": ("uses eval", frozenset({"softmax"}))},
    "forbid_runtime_only": {
        "activations": (
            "called torch.sigmoid while running, which this task forbids",
            frozenset({"sigmoid"}),
        )
    },
    "forbid_in_helper": {"optim": ("torch.linalg.vector_norm", frozenset({"clip_grad_norm_"}))},
    "forbid_init_alias": {
        "init": ("torch.nn.init.xavier_uniform_", frozenset({"xavier_uniform_"}))
    },
    "forbid_adam_subclass": {"optim": ("torch.optim.Adam", frozenset({"Adam"}))},
    "forbid_in_last_check": {
        "activations": ("torch.nn.functional.hardtanh", frozenset({"binary_step"}))
    },
    # issue 13, class 2: routes that earned points with the guard on
    "forbid_aten_ops": {"losses": ("torch.ops.aten._softmax", frozenset({"softmax"}))},
    "forbid_torch_c_namespaces": {
        "losses": (
            "which this task forbids",
            frozenset({"softmax", "log_softmax", "cross_entropy"}),
        )
    },
    "forbid_torchscript_string": {"losses": ("torch.jit.CompilationUnit", frozenset({"softmax"}))},
    "forbid_jit_script_decorator": {
        "losses": ("uses torch.jit.script (line", frozenset({"log_softmax", "cross_entropy"}))
    },
    "forbid_import_time_bound": {
        "losses": ("torch.nn.functional.softmax at import (line", frozenset({"softmax"}))
    },
    "forbid_import_time_unbound": {
        task: ("torch.nn.functional.softmax at import (line", ALL)
        for task in ("activations", "losses", "linear", "regularization", "batchnorm")
    },
    # the scan's blind spots, the guard on
    "forbid_blind_spots_losses": {
        "losses": (
            "which this task forbids",
            frozenset({"softmax", "log_softmax", "cross_entropy"}),
        )
    },
    "forbid_blind_spots_activations": {
        "activations": ("which this task forbids", frozenset({"sigmoid", "tanh", "relu"}))
    },
    "forbid_globals_update": {"losses": ("uses torch.softmax", ALL)},
    "forbid_module_getattr": {"losses": ("uses torch.log_softmax", ALL)},
    "forbid_getattr_value": {"losses": ("uses getattr (line", frozenset({"softmax"}))},
    "forbid_self_method": {"losses": ("torch.Tensor.softmax", frozenset({"softmax"}))},
    # the guard switched off from student code: tampering costs every task that forbids an API
    "forbid_dict_lookup_guard_off": "tampered",
    "monkeypatch_grader": "tampered",
    "guard_off_setprofile": "tampered",
    "guard_off_ctypes": "tampered",
    "guard_off_mode_stack": "tampered",
    "guard_off_sys_modules": "tampered",
}
ENGINE_BUGS: dict[str, str] = {}

# whole file -> (submission status, task status for every task, message fragment)
WHOLE_EXPECT = {
    "empty": ("import error", "import error", "import error: the file is empty"),
    "syntax_error": ("import error", "import error", "SyntaxError: expected ':' (line 4)"),
    "sys_exit_at_import": (
        "import error",
        "import error",
        "called sys.exit(3) while being imported",
    ),
    "raise_at_import": (
        "import error",
        "import error",
        "RuntimeError: dataset not found at /home/student/data (line 10, in <module>)",
    ),
    "os_exit_at_import": ("crashed", "crashed", "crashed: exit code 1 while importing the file"),
    "template_untouched": ("graded", "not implemented", "raises NotImplementedError"),
    "only_sigmoid": ("graded", "missing symbol", "is not defined in the submission"),
    "nested_too_deep": ("import error", "import error", "nested too deeply for Python's parser"),
    "coding_cookie_utf7": (
        "import error",
        "import error",
        "the file declares the encoding 'utf-7' (line 1 or 2); only UTF-8 is accepted",
    ),
}


@pytest.fixture(scope="module")
def reports(hw1_grader: Grader, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    root = tmp_path_factory.mktemp("hostile")
    items = []
    for whole in WHOLE:
        (root / whole.stem).mkdir()
        items.append((whole.stem, Path(shutil.copy(whole, root / whole.stem / "hw1.py"))))
    for name, text in GENERATED.items():
        (root / name).mkdir()
        (root / name / "hw1.py").write_text(text, encoding="utf-8")
        items.append((name, root / name / "hw1.py"))
    for overlay in OVERLAYS:
        (root / overlay.stem).mkdir()
        path = root / overlay.stem / "hw1.py"
        path.write_text(build(REFERENCE, overlay), encoding="utf-8")
        items.append((overlay.stem, path))
    graded = dict(hw1_grader.grade_many(items))
    assert all(isinstance(r, Report) for r in graded.values()), graded
    return graded


def _max(grader: Grader, task_id: str) -> Fraction:
    return grader.spec.task(task_id).points


def test_every_hostile_file_has_an_expectation() -> None:
    assert {p.stem for p in OVERLAYS} == set(EXPECT) | set(FORBIDDEN)
    assert not set(EXPECT) & set(FORBIDDEN)
    assert {p.stem for p in WHOLE} | set(GENERATED) == set(WHOLE_EXPECT)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=ENGINE_BUGS[n])])
        if n in ENGINE_BUGS
        else n
        for n in sorted(EXPECT)
    ],
)
def test_attack_costs_only_its_task(
    name: str, reports: dict[str, Report], hw1_grader: Grader
) -> None:
    report = reports[name]
    assert report.submission_status == "graded"
    expected = EXPECT[name]
    total = Fraction(0)
    for task in report.tasks:
        if task.status == "skipped":
            continue
        if task.id in expected:
            status, fragment, points = expected[task.id]
            assert task.status == status, (task.id, task.status, task.message)
            assert fragment in task.message, (task.id, task.message)
            assert Fraction(task.score_exact) == points
        else:
            assert task.status == "passed", (task.id, task.status, task.message)
            assert Fraction(task.score_exact) == _max(hw1_grader, task.id)
        total += Fraction(task.score_exact)
    assert Fraction(report.score_exact) == total


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_forbidden_call_costs_the_checks_it_is_charged_to(
    name: str, reports: dict[str, Report], hw1_grader: Grader
) -> None:
    report = reports[name]
    assert report.submission_status == "graded", report.submission_message
    expected = FORBIDDEN[name]
    if expected == "tampered":
        expected = {t.id: (TAMPERED, ALL) for t in hw1_grader.spec.tasks if t.forbid}
    total = Fraction(0)
    for task in report.tasks:
        if task.status == "skipped":
            continue
        spec_task = hw1_grader.spec.task(task.id)
        fragment, symbols = expected.get(task.id, ("", frozenset()))
        kept = Fraction(0)
        for check, share in zip(task.checks, scoring.check_points(spec_task), strict=True):
            if symbols is ALL or check.symbol in symbols:
                assert check.status == "forbidden API", (task.id, check.id, check.message)
                assert fragment in check.message, (task.id, check.id, check.message)
                assert Fraction(check.score_exact) == 0
            else:
                assert check.status == "passed", (task.id, check.id, check.status, check.message)
                kept += share
        assert Fraction(task.score_exact) == kept, (task.id, task.message)
        if task.id in expected:
            whole = kept == 0
            assert task.status == ("forbidden API" if whole else "partial"), task.status
            assert fragment in task.message, (task.id, task.message)
        else:
            assert task.status == "passed", (task.id, task.status, task.message)
        total += kept
    assert Fraction(report.score_exact) == total


def test_malformed_outputs_get_one_message_each(reports: dict[str, Report]) -> None:
    checks = {c.id: c for c in reports["wrong_outputs"].task("activations").checks}
    assert checks["sigmoid-forward"].status == "error"
    assert "sigmoid returned list, expected a torch.Tensor" in checks["sigmoid-forward"].message
    assert "wrong shape (7, 1) != (7, 13)" in checks["tanh-forward"].message
    assert "wrong dtype float16, expected float32" in checks["relu-forward"].message
    assert "non-finite values (NaN) at index (0, 0)" in checks["leaky_relu-forward"].message
    assert "non-finite values (NaN)" in checks["leaky_relu-backward"].message
    assert "binary_step returned NoneType" in checks["binary_step-forward"].message
    assert all(c.status != "passed" for c in checks.values())


def test_sys_exit_in_a_function_costs_only_its_checks(reports: dict[str, Report]) -> None:
    relu = {c.id: c for c in reports["sys_exit_in_relu"].task("activations").checks}
    assert relu["relu-forward"].status == relu["relu-backward"].status == "error"
    assert all(relu[c].status == "passed" for c in relu if not c.startswith("relu"))


def test_fake_output_is_kept_as_output_not_trusted(reports: dict[str, Report]) -> None:
    report = reports["fake_output"]
    assert Fraction(report.score_exact) == Fraction(27, 2)
    assert '"score": 15' in report.stdout_tail and "Total: 15 / 15" in report.stdout_tail


@pytest.mark.parametrize("name", sorted(WHOLE_EXPECT))
def test_whole_file_cases(name: str, reports: dict[str, Report]) -> None:
    report = reports[name]
    submission_status, task_status, fragment = WHOLE_EXPECT[name]
    assert report.submission_status == submission_status
    graded = [t for t in report.tasks if t.status != "skipped"]
    assert len(graded) == 7
    if name == "only_sigmoid":
        activations, *rest = graded
        assert activations.status == "partial" and Fraction(activations.score_exact) == Fraction(
            2, 5
        )
        graded = rest
    else:
        assert Fraction(report.score_exact) == 0
    for task in graded:
        assert task.status == task_status, (task.id, task.status, task.message)
        assert fragment in task.message, (task.id, task.message)
        assert Fraction(task.score_exact) == 0
    if submission_status != "graded":
        assert report.submission_message and report.submission_message in fragment + task.message


def test_unreadable_paths_raise_one_line_submission_errors(
    hw1_grader: Grader, tmp_path: Path
) -> None:
    cases = {
        HOSTILE / "whole" / "not_python.txt": "not a Python file (expected a .py file)",
        tmp_path / "missing.py": "no such file",
        tmp_path: "is a folder, expected a .py file",
    }
    for path, fragment in cases.items():
        with pytest.raises(SubmissionError) as err:
            hw1_grader.grade(path)
        assert fragment in str(err.value) and "\n" not in str(err.value)
        assert str(path) in str(err.value)


SMALL_SPEC = """
id = "hw1"
title = "Homework 1, two tasks, short limits"
points = 2
student_file = "hw1.py"
reference = "hw1"

[limits]
task_seconds = 2
import_seconds = 2
submission_seconds = 20

[[tasks]]
id = "activations"
title = "Activations"
points = 1
forbid = ["tanh"]
symbols = [{ name = "tanh", signature = "(x)" }, { name = "sigmoid", signature = "(x)" }]
[[tasks.checks]]
id = "tanh-forward"
kind = "forward"
symbol = "tanh"
cases = [{ args = [{ randn = [3, 4] }] }]

[[tasks]]
id = "losses"
title = "Losses"
points = 1
symbols = [{ name = "softmax", signature = "(z, dim=-1)" }]
[[tasks.checks]]
id = "softmax-forward"
kind = "forward"
symbol = "softmax"
cases = [{ args = [{ randn = [3, 4] }] }]
"""


def test_function_that_never_returns_times_out_only_its_task(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "assignments").mkdir(parents=True)
    (course / "reference_solutions").mkdir()
    (course / "assignments" / "hw1.toml").write_text(SMALL_SPEC)
    shutil.copy(REFERENCE, course / "reference_solutions" / "hw1.py")
    submission = tmp_path / "hw1.py"
    submission.write_text(build(REFERENCE, HOSTILE / "overlays" / "hang_in_tanh.py"))
    with Grader(load_assignment("hw1", Course(course)), workers=1) as grader:
        report = grader.grade(submission)
    activations, losses = report.tasks
    assert (activations.status, activations.message) == ("timeout", "timeout: no result within 2 s")
    assert activations.score == 0
    assert losses.status == "passed" and losses.score == 1
    assert report.score == 1 and report.submission_status == "graded"


def test_module_level_code_that_never_finishes_times_out_the_import(tmp_path: Path) -> None:
    """Limits.import_seconds (2 s here) bounds module-level code, not the submission budget."""
    course = tmp_path / "course"
    (course / "assignments").mkdir(parents=True)
    (course / "reference_solutions").mkdir()
    (course / "assignments" / "hw1.toml").write_text(SMALL_SPEC)
    shutil.copy(REFERENCE, course / "reference_solutions" / "hw1.py")
    submission = tmp_path / "hw1.py"
    submission.write_text("import time\n\nwhile True:\n    time.sleep(0.1)\n")
    with Grader(load_assignment("hw1", Course(course)), workers=1) as grader:
        report = grader.grade(submission)
    assert report.submission_status == "timeout"
    for task in report.tasks:
        assert task.status == "timeout" and task.score == 0
        assert task.message == "timeout: no result within 2 s while importing the file"
