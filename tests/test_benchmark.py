"""Trained-model checks: held-out truth stays on the trusted side, credit is linear, budgets hold.

Uses a small course made in tmp_path with a ``custom`` benchmark (the student supplies
build/train/predict) whose reference is a nearest-class-mean classifier, so each grading run
takes about a second on the real cat-vs-dog data, and a tiny ``mlp`` benchmark (the grader's
fixed architecture) built from torch's own components.
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
from autograder.trusted.credit import band
from autograder.trusted.engine import Grader
from autograder.trusted.metrics import accuracy

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
dataset = "catdog"
components = { build = "build", train = "train", predict = "predict" }
params = { train_subset = 2000 }
budget_seconds = 2
[[tasks.checks.credit]]
metric = "accuracy"
tolerance = 0.02
floor = 0.5
"""

MLP_SPEC = """
id = "mlp"
title = "Cat vs dog, the grader's network"
points = 1
student_file = "mlp.py"
reference = "mlp"

[[tasks]]
id = "benchmark-mlp"
title = "A small MLP"
points = 1
symbols = [{ name = "Linear", kind = "class", signature = "(i, o)" }, { name = "relu", signature = "(x)" }, { name = "Dropout", kind = "class", signature = "(p)" }, { name = "BatchNorm1d", kind = "class", signature = "(n)" }, { name = "kaiming_normal_", signature = "(t)" }, { name = "xavier_uniform_", signature = "(t)" }, { name = "Adam", kind = "class", signature = "(params, lr)" }, { name = "cross_entropy", signature = "(z, y)" }, { name = "l2_penalty", signature = "(ps)" }]

[[tasks.checks]]
id = "mlp"
kind = "benchmark"
recipe = "mlp"
dataset = "catdog"
components = { linear = "Linear", relu = "relu", dropout = "Dropout", batchnorm = "BatchNorm1d", init_hidden = "kaiming_normal_", init_out = "xavier_uniform_", optimizer = "Adam", loss = "cross_entropy", penalty = "l2_penalty" }
params = { hidden = 16, epochs = 1, train_subset = 1000, batch_size = 100 }
budget_seconds = 20
[[tasks.checks.credit]]
metric = "accuracy"
tolerance = 0.02
floor = 0.5
"""

MLP_REFERENCE = """
import torch

Linear, Dropout, BatchNorm1d, Adam = torch.nn.Linear, torch.nn.Dropout, torch.nn.BatchNorm1d, torch.optim.Adam
relu, cross_entropy = torch.relu, torch.nn.functional.cross_entropy
kaiming_normal_, xavier_uniform_ = torch.nn.init.kaiming_normal_, torch.nn.init.xavier_uniform_

def l2_penalty(ps):
    return sum((p * p).sum() for p in ps)
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
    (root / "assignments" / "mlp.toml").write_text(MLP_SPEC)
    (root / "reference_solutions" / "mlp.py").write_text(MLP_REFERENCE)
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


def _credit(value: float, direction: str = "higher", **kw) -> Fraction:
    return band("relative", direction, **kw).fraction(value)


def test_credit_is_linear_between_floor_and_reference_minus_tolerance() -> None:
    kw = {"reference": 0.70, "tolerance": 0.02, "floor": 0.5}
    assert _credit(0.70, **kw) == 1
    assert _credit(0.68, **kw) == 1
    assert _credit(0.59, **kw) == Fraction(1, 2)
    assert _credit(0.50, **kw) == 0
    assert _credit(0.10, **kw) == 0
    assert _credit(float("nan"), **kw) == 0


def test_credit_when_lower_is_better() -> None:
    """RMSE: full credit up to the reference plus the tolerance, none at or above the floor."""
    kw = {"reference": 0.90, "tolerance": 0.02, "floor": 1.42}
    assert _credit(0.80, "lower", **kw) == 1
    assert _credit(0.92, "lower", **kw) == 1
    assert _credit(1.17, "lower", **kw) == Fraction(1, 2)
    assert _credit(1.42, "lower", **kw) == 0
    assert _credit(9.0, "lower", **kw) == 0
    absolute = band("absolute", "lower", reference=0.0, tolerance=0.0, floor=0.9, full=0.5)
    assert absolute.fraction(0.5) == 1 and absolute.fraction(0.7) == Fraction(1, 2)


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
    assert metrics["held_out"] == 2000
    assert metrics["curves"] == {"loss": [1.0, 0.5]}


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
    labels = grader._truth["catdog"].tensors["labels"]
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
        "    import time\n    t = time.process_time()\n    while time.process_time() - t < 3:\n"
        "        pass\n    flat = images.flatten(1)",
    )
    task = _grade(grader, tmp_path, slow)
    assert task.status == "timeout"
    assert "over the 2 s budget" in task.message and "s of CPU time" in task.message
    assert task.score == 0


@needs_data
def test_sleeping_is_not_charged_to_the_cpu_budget(grader: Grader, tmp_path: Path) -> None:
    """The budget is CPU time: a machine busy with other work (or a wait) costs nothing."""
    sleepy = REFERENCE.replace(
        "    flat = images.flatten(1)",
        "    import time\n    time.sleep(3)\n    flat = images.flatten(1)",
    )
    task = _grade(grader, tmp_path, sleepy)
    assert task.status == "passed", task.message


@needs_data
def test_same_submission_same_accuracy(grader: Grader, tmp_path: Path) -> None:
    first = _grade(grader, tmp_path, REFERENCE).checks[0].metrics["accuracy"]
    second = _grade(grader, tmp_path, REFERENCE).checks[0].metrics["accuracy"]
    assert first == second


@pytest.fixture(scope="module")
def mlp_grader(course: Course, tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("AUTOGRADER_CACHE", str(tmp_path_factory.mktemp("cache")))
    with Grader(load_assignment("mlp", course), data_root=str(DATA), require_data=True) as g:
        yield g


def _grade_mlp(grader: Grader, tmp_path: Path, source: str):
    path = tmp_path / "mlp.py"
    path.write_text(textwrap.dedent(source))
    return grader.grade(path).tasks[0]


def _bundle_keys(bundle) -> set[str]:
    from autograder.wire import frames as wire

    return set(wire.decode_tensors(bundle.blob))


@needs_data
def test_fixed_architecture_never_shows_held_out_images_to_student_code(
    mlp_grader: Grader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grader predicts from the trained state: neither the held-out images nor their
    labels are in anything sent to a worker (request tensors or preloaded bundles)."""
    sent: list[dict[str, torch.Tensor]] = []
    bundles: list = []
    original = workers.Zygote.run

    def spy(self, request, tensors, **kwargs):
        sent.append(tensors)
        bundles.extend(kwargs.get("bundles", []))
        return original(self, request, tensors, **kwargs)

    monkeypatch.setattr(workers.Zygote, "run", spy)
    task = _grade_mlp(mlp_grader, tmp_path, MLP_REFERENCE)
    assert task.score == 1, task.message
    held = mlp_grader._truth["catdog"].tensors
    assert bundles and all(not any("held_out" in k for k in _bundle_keys(b)) for b in bundles)
    from autograder.wire import frames as wire

    for blob in [wire.decode_tensors(b.blob) for b in bundles] + sent:
        for value in blob.values():
            for secret in held.values():
                assert not (value.shape == secret.shape and torch.equal(value, secret))


@needs_data
def test_fixed_architecture_scores_the_trained_state_with_the_graders_own_components(
    mlp_grader: Grader, tmp_path: Path
) -> None:
    """A student whose relu is the identity trains a linear model: the grader's own relu at
    prediction time does not rescue it, and a state of the wrong shape is refused."""
    reference = _grade_mlp(mlp_grader, tmp_path, MLP_REFERENCE)
    metrics = reference.checks[0].metrics
    assert metrics["accuracy"] == metrics["reference_accuracy"] > 0.55
    assert set(metrics["curves"]) == {"loss"} and len(metrics["curves"]["loss"]) == 1
    wrong_shape = MLP_REFERENCE + (
        "\nclass BatchNorm1d(torch.nn.BatchNorm1d):\n"
        "    def __init__(self, n):\n        super().__init__(n + 1)\n"
        "    def forward(self, x):\n        return x\n"
    )
    task = _grade_mlp(mlp_grader, tmp_path, wrong_shape)
    assert (
        task.score == 0 and "is torch.float32 (17,), expected torch.float32 (16,)" in task.message
    )


@needs_data
def test_exposed_held_out_inputs_arrive_in_a_secret_order(grader: Grader, tmp_path: Path) -> None:
    """CIFAR-10's test set is stored cats first: a predict that answers by position would get
    100% if the images arrived in that order. They arrive shuffled by the course secret."""
    by_position = """
    import torch

    def build():
        return {}

    def train(model, images, labels, budget_seconds):
        return []

    def predict(model, images):
        n = images.shape[0]
        return (torch.arange(n) >= n // 2).to(torch.int64)
    """
    task = _grade(grader, tmp_path, by_position)
    assert abs(task.checks[0].metrics["accuracy"] - 0.5) < 0.05  # chance, not 100%
    assert task.score < 0.1
