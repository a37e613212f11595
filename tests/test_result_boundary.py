"""What comes back from a worker is bounded, and hidden inputs cannot come back through public text.

Issue 13, classes 4 and 5:
- hidden tasks run in children of their own: a public task's child never holds a hidden input
  (they are not preloaded into the zygote), and nothing a hidden task's child prints or raises
  reaches the student;
- a probe may return about 4x the reference's bytes and a few more tensors than the reference:
  a million empty tensors or one 900 MB tensor costs only its own check ("output too large"),
  and the grader's memory stays flat.
"""

from __future__ import annotations

import json
import resource
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from mutants.overlay import apply_overlay

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted.engine import Grader
from autograder.wire import frames as wire

REPO = Path(__file__).resolve().parents[1]
REFERENCE = (REPO / "reference_solutions" / "hw1.py").read_text()
# a value that only the hidden task's inputs hold: if it shows up anywhere in a report, a
# hidden input leaked
MARK = 4242.125


def _hidden_course(root: Path) -> Course:
    """hw1 with the ``losses`` task hidden, and a case of it holding ``MARK``."""
    (root / "assignments").mkdir(parents=True)
    shutil.copytree(REPO / "reference_solutions", root / "reference_solutions")
    text = (REPO / "assignments" / "hw1.toml").read_text()
    block = 'id = "losses"\ntitle = "Softmax, log-softmax, cross-entropy and MSE"\npoints = 2\nvisibility = "public"'
    assert block in text
    text = text.replace(block, block.replace('"public"', '"hidden"'))
    marked = f'[[cases.mse]]\nlabel = "marked"\nargs = [{{ values = [[{MARK}, 1.0]] }}, {{ values = [[0.5, 0.25]] }}]\n'
    text = text.replace("[[cases.mse]]\n", marked + "[[cases.mse]]\n", 1)
    (root / "assignments" / "hw1.toml").write_text(text)
    return Course(root)


# An mse_loss (hidden task) that shouts its inputs on stdout and in its exception.
SHOUT = """
def mse_loss(pred, target):
    print("hidden inputs", pred.detach().tolist())
    raise ValueError(f"hidden inputs {pred.detach().tolist()}")
"""


def _holds_mark(tensors: dict) -> bool:
    return any(t.is_floating_point() and bool((t.double() == MARK).any()) for t in tensors.values())


def test_hidden_inputs_never_reach_public_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker run is watched from the trusted side: a run of public tasks never holds
    the hidden input (neither in its request nor in a bundle preloaded into the zygote it
    forks from), and what the hidden task's child prints or raises is not in the report."""
    from autograder.trusted import supervisor

    runs: list[tuple[list[str], bool]] = []
    original = supervisor.Zygote.run

    def watched(self, request, tensors, **kwargs):
        tasks = [t["id"] for t in request.get("tasks", [])]
        preloaded = [wire.decode_tensors(b.blob) for b in kwargs.get("bundles", [])]
        runs.append((tasks, _holds_mark(tensors) or any(_holds_mark(b) for b in preloaded)))
        return original(self, request, tensors, **kwargs)

    monkeypatch.setattr(supervisor.Zygote, "run", watched)
    course = _hidden_course(tmp_path / "course")
    path = tmp_path / "hw1.py"
    path.write_text(apply_overlay(REFERENCE, SHOUT))
    with Grader(load_assignment("hw1", course), skip_benchmarks=True) as grader:
        report = grader.grade(path)
    public_runs = [holds for tasks, holds in runs if "losses" not in tasks]
    hidden_runs = [holds for tasks, holds in runs if tasks == ["losses"]]
    assert public_runs and not any(public_runs), runs
    assert hidden_runs and all(hidden_runs), runs  # the input does exist, in the hidden run
    losses = report.task("losses")
    assert losses.visibility == "hidden" and losses.status != "passed"
    text = json.dumps(report.model_dump())
    assert "4242.125" not in text and "hidden inputs" not in text
    assert report.task("activations").status == "passed"


# -- output caps ---------------------------------------------------------------------------------

# only on the first case (a 7 x 13 input): one oversized result per submission is the attack
MANY = """
def sigmoid(x):
    if x.shape == (7, 13):
        return tuple(torch.empty(0) for _ in range(50_000))
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
"""

HUGE = """
def tanh(x):
    if x.shape == (7, 13):
        return torch.zeros(150_000_000)  # 600 MB of float32
    e = torch.exp(-2 * x.abs())
    return torch.sign(x) * (1 - e) / (1 + e)
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_oversized_result_costs_its_check_and_leaves_the_grader_flat(
    hw1_grader: Grader, tmp_path: Path
) -> None:
    items = []
    for name, overlay in (("many", MANY), ("huge", HUGE)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "hw1.py").write_text(apply_overlay(REFERENCE, overlay))
        items.append((name, folder / "hw1.py"))
    before = _peak_rss_mb()
    reports = dict(hw1_grader.grade_many(items))
    grown = _peak_rss_mb() - before
    # a million tensors once took 4.6 GB and 140 s of the grader; 900 MB took it past 2.5 GB
    assert grown < 300, f"the grader's peak memory grew by {grown:.0f} MB"
    for name, check_id in (("many", "sigmoid-forward"), ("huge", "tanh-forward")):
        report = reports[name]
        task = report.task("activations")
        failing = {c.id: c for c in task.checks if c.status != "passed"}
        assert list(failing) == [check_id], (name, {k: v.message for k, v in failing.items()})
        assert failing[check_id].status == "output too large"
        assert "over this check's limit" in failing[check_id].message
        # every other task kept its points
        assert Fraction(report.score_exact) == Fraction(27, 2) - Fraction(1, 5)


def test_more_tensors_than_the_reference_is_output_too_large(
    hw1_grader: Grader, tmp_path: Path
) -> None:
    """Within the byte cap but far more tensors than the reference returned (one)."""
    path = tmp_path / "hw1.py"
    path.write_text(
        apply_overlay(REFERENCE, "def relu(x):\n    return tuple(x[:1] for _ in range(40))\n")
    )
    task = hw1_grader.grade(path).task("activations")
    relu = next(c for c in task.checks if c.id == "relu-forward")
    assert relu.status == "output too large" and "40 tensors" in relu.message
