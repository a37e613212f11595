"""The benchmark check kind: labels stay on the trusted side, credit is linear, budgets hold.

Uses a small course made in tmp_path with a ``custom`` benchmark (the student supplies
build/train/predict) whose reference is a nearest-class-mean classifier, so each grading run
takes about a second on the real cat-vs-dog data.
"""

from __future__ import annotations

import os
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted import supervisor as workers
from autograder.trusted.checks.benchmark import accuracy, credit
from autograder.trusted.engine import Grader

DATA = Path(
    os.environ.get("AUTOGRADER_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
).resolve()
needs_data = pytest.mark.skipif(
    not (DATA / "catdog").is_dir(), reason=f"benchmark data not found in {DATA}"
)

SPEC = """
id = "cd"
title = "Cat vs dog, custom model"
points = 2
student_file = "cd.py"
reference = "cd"

[[tasks]]
id = "benchmark-custom"
title = "Your own classifier"
points = 2
symbols = [{ name = "build", signature = "()" }, { name = "train", signature = "(model, images, labels, budget_seconds)" }, { name = "predict", signature = "(model, images)" }]

[[tasks.checks]]
id = "custom"
kind = "benchmark"
recipe = "custom"
components = { build = "build", train = "train", predict = "predict" }
train_subset = 2000
budget_seconds = 2
tolerance = 0.02
floor = 0.5
"""

REFERENCE = """
import torch

def build():
    return {}

def train(model, images, labels, budget_seconds):
    flat = images.flatten(1)
    model["means"] = torch.stack([flat[labels == c].mean(0) for c in (0, 1)])
    return [1.0, 0.5]

def predict(model, images):
    d = torch.cdist(images.flatten(1), model["means"])
    return d.argmin(1)
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    root = tmp_path_factory.mktemp("course")
    (root / "assignments").mkdir()
    (root / "reference_solutions").mkdir()
    (root / "assignments" / "cd.toml").write_text(SPEC)
    (root / "reference_solutions" / "cd.py").write_text(REFERENCE)
    return Course(root)


@pytest.fixture(scope="module")
def grader(course: Course, tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("AUTOGRADER_CACHE", str(tmp_path_factory.mktemp("cache")))
    with Grader(load_assignment("cd", course), data_root=str(DATA), require_data=True) as g:
        yield g


def _grade(grader: Grader, tmp_path: Path, source: str):
    path = tmp_path / "cd.py"
    path.write_text(textwrap.dedent(source))
    report = grader.grade(path)
    return report.tasks[0]


def test_credit_is_linear_between_floor_and_reference_minus_tolerance() -> None:
    assert credit(0.70, reference=0.70, tolerance=0.02, floor=0.5) == 1
    assert credit(0.68, reference=0.70, tolerance=0.02, floor=0.5) == 1
    assert credit(0.59, reference=0.70, tolerance=0.02, floor=0.5) == Fraction(1, 2)
    assert credit(0.50, reference=0.70, tolerance=0.02, floor=0.5) == 0
    assert credit(0.10, reference=0.70, tolerance=0.02, floor=0.5) == 0


def test_accuracy_rejects_malformed_predictions() -> None:
    labels = torch.tensor([0, 1, 1])
    assert accuracy(torch.tensor([0, 1, 0]), labels) == pytest.approx(2 / 3)
    assert accuracy(torch.tensor([0, 1]), labels) is None
    assert accuracy(torch.tensor([0.0, 1.0, 1.0]), labels) is None


@needs_data
def test_reference_gets_full_points_and_metrics(grader: Grader, tmp_path: Path) -> None:
    task = _grade(grader, tmp_path, REFERENCE)
    assert task.status == "passed", task.message
    assert task.score == 2
    metrics = task.checks[0].metrics
    assert metrics["accuracy"] == metrics["reference_accuracy"] > 0.55
    assert metrics["test_images"] == 2000
    assert metrics["loss_curve"] == [1.0, 0.5]


@needs_data
def test_test_labels_never_reach_the_worker(
    grader: Grader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, torch.Tensor]] = []
    original = workers.Zygote.run

    def spy(self, request, tensors, **kwargs):
        sent.append(tensors)
        return original(self, request, tensors, **kwargs)

    monkeypatch.setattr(workers.Zygote, "run", spy)
    _grade(grader, tmp_path, REFERENCE)
    labels = grader._truth["test_labels"]
    assert sent, "the worker was never run"
    for tensors in sent:
        assert not any("test_labels" in key for key in tensors)
        for value in tensors.values():
            assert not (
                value.shape == labels.shape
                and value.dtype == labels.dtype
                and torch.equal(value, labels)
            )


@needs_data
def test_hunting_for_labels_in_the_worker_finds_nothing(grader: Grader, tmp_path: Path) -> None:
    hostile = """
    import gc
    import torch

    def build():
        return {}

    def train(model, images, labels, budget_seconds):
        # look for any int64 tensor with one entry per test image: the test labels
        for obj in gc.get_objects():
            if isinstance(obj, torch.Tensor) and obj.dtype == torch.int64 and obj.shape == (2000,):
                model["stolen"] = obj.clone()
        return []

    def predict(model, images):
        return model.get("stolen", torch.zeros(images.shape[0], dtype=torch.int64))
    """
    task = _grade(grader, tmp_path, hostile)
    assert task.score == 0
    assert task.checks[0].metrics["accuracy"] <= 0.5 + 1e-9


@needs_data
def test_skipping_training_earns_nothing(grader: Grader, tmp_path: Path) -> None:
    lazy = """
    import torch

    def build():
        return None

    def train(model, images, labels, budget_seconds):
        return None

    def predict(model, images):
        return torch.ones(images.shape[0], dtype=torch.int64)
    """
    task = _grade(grader, tmp_path, lazy)
    assert task.score == 0
    assert task.status == "failed"
    assert "test accuracy 50.00%" in task.checks[0].message


@needs_data
def test_training_over_budget_is_a_timeout_with_the_time_used(
    grader: Grader, tmp_path: Path
) -> None:
    slow = REFERENCE.replace(
        "    flat = images.flatten(1)",
        "    import time\n    time.sleep(3)\n    flat = images.flatten(1)",
    )
    task = _grade(grader, tmp_path, slow)
    assert task.status == "timeout"
    assert "over the 2 s budget" in task.message and "training took 3." in task.message
    assert task.score == 0


@needs_data
def test_same_submission_same_accuracy(grader: Grader, tmp_path: Path) -> None:
    first = _grade(grader, tmp_path, REFERENCE).checks[0].metrics["accuracy"]
    second = _grade(grader, tmp_path, REFERENCE).checks[0].metrics["accuracy"]
    assert first == second
