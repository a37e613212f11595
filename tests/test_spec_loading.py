"""Assignment specs that cannot load: one SpecError naming the file, the field and the problem.

Unit tests go through ``parse_spec``/``load_spec_file``/``load_assignment``; one CLI run checks
that the user sees a single ``error:`` line and exit code 2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from autograder.errors import SpecError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment, load_spec_file, parse_spec, spec_hash

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = Path("course/assignments/hw9.toml")

BASE = """
id = "hw9"
title = "Practice"
points = 2
student_file = "hw9.py"
reference = "hw9"

[[cases.a]]
args = [{ randn = [2, 3] }]

[[tasks]]
id = "acts"
title = "Activations"
points = 2
symbols = [{ name = "f", signature = "(x)" }]

[[tasks.checks]]
id = "f-forward"
kind = "forward"
symbol = "f"
cases = "a"
"""

SECOND_CHECK = """
[[tasks.checks]]
id = "f-forward"
kind = "backward"
symbol = "f"
cases = "a"
"""


def _variant(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# name -> (spec text, where (field path), problem)
BROKEN = {
    "malformed TOML": (
        _variant("points = 2\nstudent", "points = = 2\nstudent"),
        "not valid TOML",
        "(at line 4, column 10)",
    ),
    "gradcheck of a module": (
        _variant(
            'kind = "forward"\nsymbol = "f"', 'kind = "gradcheck"\ncall = "module"\nsymbol = "f"'
        ),
        "tasks[0] (id 'acts').checks[0] (id 'f-forward')",
        "gradcheck supports call = 'function' or 'autograd_function', not 'module'",
    ),
    "unknown field": (
        _variant('symbol = "f"\ncases', 'symbol = "f"\ntolerance = 3\ncases'),
        "tasks[0] (id 'acts').checks[0] (id 'f-forward').tolerance",
        "Extra inputs are not permitted",
    ),
    "unknown top-level field": (
        _variant('reference = "hw9"', 'reference = "hw9"\ndeadline = "friday"'),
        "deadline",
        "Extra inputs are not permitted",
    ),
    "wrong type (points)": (
        _variant("points = 2\nsymbols", 'points = "two"\nsymbols'),
        "tasks[0] (id 'acts').points",
        "'two' is not a finite number",
    ),
    "wrong type (weight)": (
        _variant('kind = "forward"', 'kind = "forward"\nweight = "heavy"'),
        "tasks[0] (id 'acts').checks[0] (id 'f-forward').weight",
        "Input should be a valid number",
    ),
    "unknown check kind": (
        _variant('kind = "forward"', 'kind = "forwards"'),
        "tasks[0] (id 'acts').checks[0] (id 'f-forward')",
        "'forwards' found using 'kind' does not match any of the expected tags",
    ),
    "bad shape": (
        _variant("randn = [2, 3]", "randn = [2, -3]"),
        "cases.a[0].args[0]",
        "randn must be a shape of non-negative integers",
    ),
    "two generators in one argument": (
        _variant("randn = [2, 3]", "randn = [2, 3], zeros = [2]"),
        "cases.a[0].args[0]",
        "an argument needs exactly one of",
    ),
    "points not adding up": (
        _variant("points = 2\nstudent", "points = 3\nstudent"),
        ": tasks: ",
        "task points add up to 2, but the assignment declares points = 3",
    ),
    "unknown case set": (
        _variant('cases = "a"', 'cases = "b"'),
        ": tasks: ",
        "task 'acts' check 'f-forward' refers to case set 'b', which is not defined under [cases]",
    ),
    "duplicate check ids": (
        BASE + SECOND_CHECK,
        "tasks[0] (id 'acts').checks: ",
        "duplicate check ids ['f-forward']",
    ),
    "duplicate task ids": (
        _variant("points = 2\nstudent", "points = 4\nstudent") + BASE[BASE.index("[[tasks]]") :],
        ": tasks: ",
        "duplicate task ids ['acts']",
    ),
    "check symbol not in the task's symbols": (
        _variant('symbol = "f"', 'symbol = "g"'),
        "tasks[0] (id 'acts').checks: ",
        "check 'f-forward' uses symbol 'g', not listed in the task's symbols",
    ),
    "student file not a .py name": (
        _variant('student_file = "hw9.py"', 'student_file = "hw9.ipynb"'),
        "student_file",
        "String should match pattern",
    ),
    "no tasks": (
        BASE[: BASE.index("[[tasks]]")].replace("points = 2\n", "points = 0\n", 1),
        "tasks",
        "Field required",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_spec_is_one_located_spec_error(name: str) -> None:
    text, where, problem = BROKEN[name]
    with pytest.raises(SpecError) as err:
        parse_spec(SPEC_PATH, text)
    message = str(err.value)
    assert message.startswith(f"{SPEC_PATH}: "), message
    assert len(message.splitlines()) == 1, message
    assert where in message and problem in message, message


def test_every_problem_gets_its_own_located_line() -> None:
    text = _variant('symbol = "f"\ncases', 'symbol = "f"\ntolerance = 3\ncases').replace(
        "points = 2\nsymbols", 'points = "two"\nsymbols'
    )
    with pytest.raises(SpecError) as err:
        parse_spec(SPEC_PATH, text)
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{SPEC_PATH}: tasks[0] (id 'acts')") for line in lines)


def _course(tmp_path: Path, spec_text: str, *, rubric: bool = False, name: str = "hw1") -> Course:
    root = tmp_path / "course"
    (root / "assignments").mkdir(parents=True)
    (root / "assignments" / f"{name}.toml").write_text(spec_text)
    if rubric:
        (root / "rubrics").mkdir()
        shutil.copy(REPO / "rubrics" / "course.toml", root / "rubrics" / "course.toml")
    return Course(root)


def test_points_that_disagree_with_the_rubric_are_a_load_error(tmp_path: Path) -> None:
    text = (REPO / "assignments" / "hw1.toml").read_text()
    head, bench = text.split('\nid = "benchmark-catdog"', 1)
    assert head.count("\npoints = 15\n") == 1 and "points = 1.5" in bench
    text = head.replace("\npoints = 15\n", "\npoints = 14\n") + '\nid = "benchmark-catdog"'
    text += bench.replace("points = 1.5", "points = 0.5", 1)
    course = _course(tmp_path, text, rubric=True)
    parse_spec(course.spec_path("hw1"), text)  # valid on its own: 14 = the tasks' sum
    with pytest.raises(SpecError) as err:
        load_assignment("hw1", course)
    message = str(err.value)
    assert message.startswith(str(course.spec_path("hw1")))
    assert "points = 14, but the rubric" in message and "gives hw1 15 points" in message
    assert str(course.rubrics / "course.toml") in message


def test_a_homework_the_rubric_does_not_list_loads(tmp_path: Path) -> None:
    course = _course(tmp_path, BASE, rubric=True, name="hw9")
    loaded = load_assignment("hw9", course)
    assert loaded.spec.points == 2 and loaded.reference_path == course.reference_path("hw9")


def test_spec_id_must_match_its_file_name(tmp_path: Path) -> None:
    course = _course(tmp_path, BASE, name="practice")
    with pytest.raises(
        SpecError, match=r"practice\.toml: id 'hw9' does not match the file name 'practice'"
    ):
        load_assignment("practice", course)


def test_missing_spec_file_and_unknown_assignment(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec_file(tmp_path / "hw9.toml")
    course = _course(tmp_path, BASE, name="hw9")
    with pytest.raises(SpecError) as err:
        load_assignment("hw7", course)
    assert "unknown assignment 'hw7'" in str(err.value) and "hw9" in str(err.value)


def test_the_real_homework_1_spec_loads_and_hashes_stably() -> None:
    loaded = load_assignment("hw1", Course(REPO))
    spec = loaded.spec
    assert spec.points == 15 == sum(t.points for t in spec.tasks)
    assert [t.points for t in spec.tasks] == [
        2,
        2,
        Fraction(5, 2),
        2,
        Fraction(3, 2),
        Fraction(3, 2),
        2,
        Fraction(3, 2),
    ]
    assert any(t.is_benchmark and "benchmark" in t.id for t in spec.tasks)
    assert loaded.spec_hash == spec_hash(parse_spec(loaded.path, loaded.path.read_text()))


def test_cli_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    course = _course(tmp_path, _variant('cases = "a"', 'cases = "b"'), name="hw9")
    submission = tmp_path / "hw9.py"
    submission.write_text("def f(x):\n    return x\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "check",
            "hw9",
            str(submission),
            "--course",
            str(course.root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {course.spec_path('hw9')}: ")
    assert "refers to case set 'b'" in result.stderr
