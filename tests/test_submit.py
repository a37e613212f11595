"""autograder submit: ids, size limit, import check, --force, atomic attempts that batch discovers."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.batch.intake import discover
from autograder.cli import main
from autograder.errors import OutputError, SubmissionError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.student.kit import build_kit
from autograder.student.submit import (
    LocalCheck,
    SubmitManifest,
    Submitter,
    attempt_name,
    read_manifest,
    submit,
    write_attempt,
)
from autograder.submission import submit_id_problem as student_id_problem
from autograder.version import __version__

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference_solutions" / "hw1.py"


@pytest.fixture(scope="module")
def kit_dir(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "reference-cache"  # shared with test_kit
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOGRADER_CACHE", str(path))
        mp.delenv("AUTOGRADER_COURSE", raising=False)
        out = tmp_path_factory.mktemp("submit-kit") / "kit"
        build_kit(load_assignment("hw1", Course(REPO)), out)
        yield out


@pytest.fixture(scope="module")
def submitter(kit_dir):
    with Submitter("hw1", kit=kit_dir) as one:
        yield one


def _manifest(student_id: str = "s1") -> SubmitManifest:
    check = LocalCheck(
        score=1,
        max_score=2,
        score_exact="1",
        max_score_exact="2",
        skipped_points="0",
        status="graded",
        message="",
        tasks={},
    )
    return SubmitManifest(
        assignment="hw1",
        student_id=student_id,
        file="hw1.py",
        sha256="0" * 64,
        size=3,
        submitted_at="2030-01-02T03:04:05.000006Z",
        grader_version=__version__,
        checked_with={"kit": "k"},
        local_check=check,
        forced=False,
    )


@pytest.mark.parametrize("good", ["s1", "jane.doe", "a_b-c@uni+1", "X" * 64, "2024001"])
def test_good_ids(good):
    assert student_id_problem(good) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "use 1 to 64"),
        ("../x", "path separator"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("..", "contains '..'"),
        ("a..b", "contains '..'"),
        (".hidden", "starts with '.'"),
        ("x" * 65, "use 1 to 64"),
        ("bad id", "use 1 to 64"),
        ("ümlaut", "use 1 to 64"),
        ("-flag", "use 1 to 64"),
    ],
)
def test_bad_ids(bad, why):
    assert why in student_id_problem(bad)


def test_attempts_are_atomic_and_never_overwritten(tmp_path, monkeypatch):
    when = datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert attempt_name(when) == "20300102T030405000006Z"
    first = write_attempt(tmp_path, _manifest(), b"one", when)
    second = write_attempt(tmp_path, _manifest(), b"two", when)
    assert (first.name, second.name) == ("20300102T030405000006Z", "20300102T030405000006Z-1")
    assert (first / "hw1.py").read_bytes() == b"one" and (second / "hw1.py").read_bytes() == b"two"
    assert read_manifest(first) == _manifest()
    student = tmp_path / "hw1" / "s1"
    assert sorted(p.name for p in student.iterdir()) == [first.name, second.name]

    def refuse(*_args):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(OutputError, match="cannot write the submission: .*Permission denied"):
        write_attempt(tmp_path, _manifest(), b"three", when)
    assert sorted(p.name for p in student.iterdir()) == [first.name, second.name]  # no temp left


def test_refusals_before_grading(kit_dir, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    ok = tmp_path / "hw1.py"
    ok.write_text("x = 1\n")
    with pytest.raises(SubmissionError, match="path separator"):
        submit("hw1", ok, student_id="a/../b", dest=dest, kit=kit_dir)
    with pytest.raises(SubmissionError, match="no such folder"):
        submit("hw1", ok, student_id="s1", dest=tmp_path / "nowhere", kit=kit_dir)
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * 1_000_001)
    with pytest.raises(SubmissionError, match="over the 1000000 byte limit"):
        submit("hw1", big, student_id="s1", dest=dest, kit=kit_dir)
    assert list(dest.iterdir()) == []


def test_submit_refuses_what_does_not_import_unless_forced(submitter, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    broken = tmp_path / "hw1.py"
    broken.write_text("def sigmoid(x):\n    return x +\n")
    with pytest.raises(SubmissionError, match=r"does not import: SyntaxError: .*line 2.*--force"):
        submitter.submit(broken, student_id="s1", dest=dest)
    missing = tmp_path / "missing.py"
    missing.write_text("import no_such_module_q7\n")
    with pytest.raises(SubmissionError, match="does not import: ModuleNotFoundError"):
        submitter.submit(missing, student_id="s1", dest=dest)
    assert list(dest.iterdir()) == []
    forced = submitter.submit(broken, student_id="s1", dest=dest, force=True)
    manifest = read_manifest(forced.attempt)
    assert manifest.forced and manifest.local_check.status == "import error"
    assert manifest.local_check.score == 0
    assert (forced.attempt / "hw1.py").read_bytes() == broken.read_bytes()


def test_submit_writes_attempts_that_batch_discovers(submitter, kit_dir, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    first = submitter.submit(REFERENCE, student_id="s-42", dest=dest)
    second = submitter.submit(REFERENCE, student_id="s-42", dest=dest)
    assert first.attempt != second.attempt
    assert first.attempt.parent == dest / "hw1" / "s-42"
    assert re.fullmatch(r"\d{8}T\d{12}Z(-\d+)?", first.attempt.name)
    assert sorted(p.name for p in first.attempt.iterdir()) == ["hw1.py", "manifest.json"]
    raw = json.loads((first.attempt / "manifest.json").read_text())
    assert raw["student_id"] == "s-42" and raw["size"] == REFERENCE.stat().st_size
    assert raw["grader_version"] == __version__ and raw["checked_with"]["kit"] == str(
        kit_dir / "kit"
    )
    assert (raw["local_check"]["score_exact"], raw["local_check"]["max_score_exact"]) == (
        "27/2",
        "15",
    )
    assert raw["local_check"]["tasks"]["benchmark-catdog"] == "skipped: 0 of 3/2"
    import hashlib

    assert raw["sha256"] == hashlib.sha256(REFERENCE.read_bytes()).hexdigest()
    when = datetime.fromisoformat(raw["submitted_at"].replace("Z", "+00:00"))
    assert when.tzinfo is not None and attempt_name(when) == first.attempt.name

    extract = tmp_path / "extract"
    extract.mkdir()
    found = discover(dest, "hw1.py", extract_dir=extract)
    assert found.problems == [] and found.ignored == []
    assert [s.student_id for s in found.submissions] == ["s-42", "s-42"]
    claims = sorted(
        datetime.fromisoformat(read_manifest(a.attempt).submitted_at.replace("Z", "+00:00"))
        for a in (first, second)
    )
    # the manifest's time is kept as the student's claim; the attempt is timed by when the
    # shared folder received the file (the same moment here: submit wrote both)
    assert [s.claimed_at for s in found.submissions] == claims
    for sub, claim in zip(found.submissions, claims, strict=True):
        assert sub.time_source == "received"
        assert abs(sub.submitted_at - claim) < timedelta(minutes=1)


def test_submit_cli(kit_dir, tmp_path):
    work = tmp_path / "student"
    shutil.copytree(kit_dir, work)
    shutil.copy(REFERENCE, work / "hw1.py")
    dest = tmp_path / "dest"
    dest.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env["AUTOGRADER_COURSE"] = str(tmp_path / "no-such-course")  # the kit needs no course
    cmd = [sys.executable, "-m", "autograder", "submit", "hw1", "hw1.py", "--student-id", "s7"]
    done = subprocess.run(
        [*cmd, "--to", str(dest), "--kit", ".", "--json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    attempt = Path(out["attempt"])
    assert attempt.parent == dest / "hw1" / "s7" and (attempt / "hw1.py").is_file()
    assert out["local_check"]["score_exact"] == "27/2"
    assert [p.name for p in (dest / "hw1").iterdir()] == ["s7"]


def test_submit_cli_errors_are_one_line(kit_dir, tmp_path, capsys):
    dest = tmp_path / "dest"
    dest.mkdir()
    args = ["submit", "hw1", str(REFERENCE), "--student-id", "../s7", "--to", str(dest)]
    assert main([*args, "--kit", str(kit_dir)]) == 2
    assert capsys.readouterr().err == "error: student id '../s7' contains a path separator\n"
    assert main([*args, "--kit", str(kit_dir), "--course", str(REPO)]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert list(dest.iterdir()) == []
