"""The policy where students look (issue 21, item 3): each task's forbidden APIs in the generated
template (section header and each affected symbol's docstring), in the kit README, and in
``autograder describe``, which describes any homework from its spec alone."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.spec.models import Assignment
from autograder.spec.public import public_spec
from autograder.student.describe import TRAINED_FIELDS, describe, describe_kit
from autograder.student.template import render_readme, render_template

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hw1() -> Assignment:
    return load_assignment("hw1", Course(ROOT)).spec


def _said(entry: str) -> str:
    """How the template and the README name one forbid entry."""
    entry = entry.strip()
    if entry.endswith("*"):
        return "anything in " + entry.rstrip("*").rstrip(".")
    return entry.replace("torch.Tensor.", "Tensor.")


def _flat(text: str) -> str:
    return " ".join(text.replace("#", " ").split())


def test_a_student_who_only_opens_hw1_py_sees_each_forbidden_list(hw1: Assignment) -> None:
    source = render_template(hw1)
    tree = ast.parse(source)
    docs = {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    lines = source.splitlines()
    forbidding = [t for t in hw1.tasks if t.visibility == "public" and t.forbid]
    assert len(forbidding) == 7
    for task in forbidding:
        # the section header: the comment lines under "# --- <title> (N points)"
        start = next(i for i, line in enumerate(lines) if line.startswith(f"# --- {task.title} ("))
        header = []
        for line in lines[start + 1 :]:
            if not line.startswith("#"):
                break
            header.append(line)
        said = _flat("\n".join(header))
        assert said.startswith("You may not call:"), (task.id, said)
        for entry in task.forbid:
            assert _said(entry) in said, (task.id, entry)
        for symbol in task.symbols:
            doc = _flat(docs[symbol.name])
            assert "You may not call:" in doc, symbol.name
            for entry in task.forbid:
                assert _said(entry) in doc, (symbol.name, entry)


def test_the_kit_readme_lists_each_tasks_routes(hw1: Assignment) -> None:
    public = public_spec(hw1)
    readme = render_readme(
        hw1,
        public,
        server_only={"benchmark-catdog"},
        hidden_count=0,
        hidden_points=Fraction(0),
        version="0.1.0",
    )
    assert "## What you may not call" in readme
    for task in public.tasks:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{task.id}` |"))
        for entry in task.forbid:
            assert _said(entry) in row, (task.id, entry)
            assert f"  - `{entry}`: " in readme
    assert (
        "`torch.softmax`" in readme
        and "`Tensor.softmax`" in readme
        and "`torch.nn.Softmax`" in readme
    )


def _describe_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "describe", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
    )


def test_describe_hw1_shows_each_forbidden_list_and_every_check(hw1: Assignment) -> None:
    done = _describe_cli("hw1")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(hw1.title) and "(hw1, 15 points, file hw1.py)" in out
    for task in hw1.tasks:
        assert f"Task {task.id} (" in out
        for check in task.checks:
            assert f"    {check.id} ({check.kind}" in out
        for entry in task.forbid:
            assert f"    {entry}: " in out
            assert _said(entry) in out
    assert "torch.softmax, torch.softmax_, torch.special.softmax" in out
    assert "gradient at extreme values (+-1e4, +-88, +-20)" in out  # case labels
    assert "No hidden tasks." in out

    done = _describe_cli("hw1", "--json")
    data = json.loads(done.stdout)
    assert [t["id"] for t in data["tasks"]] == [t.id for t in hw1.tasks]
    losses = next(t for t in data["tasks"] if t["id"] == "losses")
    softmax = next(f for f in losses["forbid"] if f["entry"] == "softmax")
    assert {"torch.softmax", "Tensor.softmax", "torch.nn.Softmax"} <= set(softmax["routes"])
    points = [Fraction(c["points"]) for t in data["tasks"] for c in t["checks"]]
    assert sum(points, Fraction(0)) == Fraction(data["points"]) == 15


def test_hidden_tasks_are_only_a_count_and_points(hw1: Assignment, tmp_path: Path) -> None:
    data = hw1.model_dump(mode="json")
    data["tasks"][6]["visibility"] = "hidden"  # optim
    spec = Assignment.model_validate(data)
    found = describe(spec)
    assert [t.id for t in found.tasks] == [t.id for t in hw1.tasks if t.id != "optim"]
    assert (found.hidden_tasks, found.hidden_points, found.points) == (1, "2", "15")
    assert "SGD" not in found.model_dump_json()

    # a kit: its public spec and its manifest's count, read without the course or torch
    kit = tmp_path / "kit-folder" / "kit"
    kit.mkdir(parents=True)
    (kit / "spec.json").write_text(public_spec(spec).model_dump_json())
    (kit / "manifest.json").write_text(json.dumps({"hidden_tasks": 1, "hidden_points": "2"}))
    assert describe_kit(tmp_path / "kit-folder") == found
    done = _describe_cli("hw1", "--kit", str(tmp_path / "kit-folder"))
    assert done.returncode == 0, done.stderr
    assert "Also 1 hidden task worth 2 points" in done.stdout and "SGD" not in done.stdout
    done = _describe_cli("hw2", "--kit", str(tmp_path / "kit-folder"))
    assert done.returncode == 2 and "the kit is for hw1, not hw2" in done.stderr


def test_trained_model_checks_are_described_from_whatever_fields_they_have(hw1: Assignment) -> None:
    [bench] = [c for t in hw1.tasks for c in t.checks if c.kind == "benchmark"]
    [task] = [t for t in describe(hw1).tasks if t.id == "benchmark-catdog"]
    [check] = task.checks
    assert check.title == bench.title
    present = [name for name in TRAINED_FIELDS if getattr(bench, name, None) not in (None, {}, [])]
    assert present and list(check.details) == present
