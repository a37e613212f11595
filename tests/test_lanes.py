"""Batch grading on grader processes ("lanes"): the same reports as in-process grading, and a
lane that dies or fails is reported the way an in-process grader's failure would be."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
from mutants.overlay import build

from autograder.batch import run as batch
from autograder.batch.lanes import GraderProcessError, LaneGrader, _lane_ready, grader_for
from autograder.errors import SpecError, SubmissionError
from autograder.report import Report
from autograder.spec.load import load_assignment
from autograder.trusted.engine import Grader

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
OVERLAYS = REPO / "tests" / "hostile_submissions" / "overlays"
# what differs between two gradings of the same file: when, and how long
_CLOCK = {"started_at", "finished_at", "seconds"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lanes")
    (root / "reference.py").write_bytes(REFERENCE.read_bytes())
    (root / "student.py").write_bytes((REPO / "examples" / "hw1_student.py").read_bytes())
    (root / "segfault.py").write_text(build(REFERENCE, OVERLAYS / "segfault_in_tanh.py"))
    (root / "wrong.py").write_text(build(REFERENCE, OVERLAYS / "wrong_outputs.py"))
    (root / "syntax.py").write_text("def softmax(:\n")
    # answers a lane could be fooled by, written to every descriptor the worker has
    forged = b'{"key": "reference.py", "submission_error": "forged"}\\n{"ready": true}\\n'
    (root / "forger.py").write_text(
        REFERENCE.read_text()
        + f"\nimport os\nfor _fd in range(64):\n    try:\n        os.write(_fd, {forged!r})\n"
        + "    except OSError:\n        pass\n"
    )
    return root


def _plain(report: Report) -> dict:
    data = report.model_dump(mode="json", exclude=_CLOCK)
    for task in data["tasks"]:
        task.pop("seconds")
        for check in task["checks"]:
            check["metrics"] = {k: v for k, v in check["metrics"].items() if k != "seconds"}
    return data


def test_lanes_give_the_reports_in_process_grading_gives(folder: Path) -> None:
    loaded = load_assignment("hw1")
    items = [(p.name, p) for p in sorted(folder.iterdir())]
    items.append(("missing.py", folder / "missing.py"))
    with Grader(loaded, workers=1, skip_benchmarks=True) as grader:
        expected = dict(grader.grade_many(items))
    with LaneGrader(loaded, workers=2, skip_benchmarks=True) as lanes:
        got = dict(lanes.grade_many(items))
    assert set(got) == set(expected)
    assert isinstance(got["missing.py"], SubmissionError)
    assert str(got["missing.py"]) == str(expected["missing.py"])
    for key in sorted(set(got) - {"missing.py"}):
        assert isinstance(got[key], Report), key
        assert _plain(got[key]) == _plain(expected[key]), key
    scores = {k: r.score for k, r in got.items() if isinstance(r, Report)}
    assert scores["reference.py"] == 13.5 and scores["syntax.py"] == 0
    # the forger also wrote into its own result stream: refused as malformed, nothing forged
    assert scores["forger.py"] == 0
    assert "malformed results" in got["forger.py"].submission_message
    assert 0 < scores["segfault.py"] < 13.5 and scores["wrong.py"] < 13.5


def test_a_lane_that_dies_is_a_grader_crash_not_a_stop(folder: Path) -> None:
    """A lane killed from outside (OOM killer, a crash in torch) raises an error the batch
    treats as a grader crash: it grades the rest one by one and records the culprit."""
    loaded = load_assignment("hw1")
    with LaneGrader(loaded, workers=2, skip_benchmarks=True) as lanes:
        assert lanes.grade(folder / "syntax.py").submission_status == "import error"
        os.kill(lanes.lanes[0].proc.pid, signal.SIGKILL)
        with pytest.raises(GraderProcessError, match="a grader process stopped") as caught:
            list(lanes.grade_many([("a", folder / "reference.py")] * 4))
    assert not batch._fatal(caught.value)


def test_a_spec_that_changed_under_the_batch_stops_it(tmp_path: Path) -> None:
    """Lanes load the spec again: one that no longer matches the batch's hash would record
    reports under the wrong spec, so the batch stops with a clear error."""
    loaded = load_assignment("hw1")
    lanes = LaneGrader(loaded, workers=2, skip_benchmarks=True)
    lanes.config["spec_hash"] = "0" * 64
    with pytest.raises(Exception, match="changed while the batch was starting") as caught:
        lanes.__enter__()
    assert batch._fatal(caught.value) and not lanes.lanes


def test_grader_for_uses_lanes_only_where_they_apply() -> None:
    loaded = load_assignment("hw1")
    assert isinstance(grader_for(loaded, workers=2, skip_benchmarks=True), LaneGrader)
    assert isinstance(grader_for(loaded, workers=1), Grader)
    # options a lane cannot receive, or a spec it cannot load again: threads
    assert isinstance(grader_for(loaded, workers=2, plan=object()), Grader)
    assert not _lane_ready(SimpleNamespace(path=Path("/nonexistent.toml"), spec_hash="x"), {})
    assert not _lane_ready(loaded, {"data_root": object()})


def test_lane_errors_keep_our_classes() -> None:
    from autograder.batch.lanes import _error

    assert type(_error({"type": "SpecError", "message": "bad spec"})) is SpecError
    crash = _error({"type": "ZeroDivisionError", "message": "division by zero"})
    assert isinstance(crash, GraderProcessError) and "ZeroDivisionError" in str(crash)
    assert isinstance(_error({"type": "os", "message": "x"}), GraderProcessError)
