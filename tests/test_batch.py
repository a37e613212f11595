"""The batch loop with a stand-in grader: recording, resuming, crashes, Ctrl-C, full gradebook."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
from report_factory import make_report
from rich.console import Console

from autograder.batch.run import run_batch
from autograder.errors import AutograderError, DataError, GradebookError, SubmissionError
from autograder.gradebook import open_gradebook
from autograder.version import __version__

ASSIGNMENT = SimpleNamespace(
    id="hw1",
    spec_hash="spec-1",
    spec=SimpleNamespace(student_file="hw1.py", points=Fraction(15, 2)),
)


class FakeGrader:
    """Grades by file content: ``good``, ``partial``, ``crash`` (grader breaks), ``gerr``
    (report says grader error), ``interrupt`` (Ctrl-C arrives)."""

    instances: list[FakeGrader] = []

    def __init__(self, assignment, *, workers: int = 1, skip_benchmarks: bool = False, **kw):
        self.assignment, self.workers, self.kw = assignment, workers, kw
        self.skip_benchmarks = skip_benchmarks
        self.graded: list[str] = []
        FakeGrader.instances.append(self)

    def __enter__(self) -> FakeGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def grade(self, path: Path):
        data = path.read_bytes()
        self.graded.append(data.decode())
        digest = hashlib.sha256(data).hexdigest()
        if data.startswith(b"crash"):
            raise RuntimeError("worker pool died")
        if data.startswith(b"interrupt"):
            raise KeyboardInterrupt
        if data.startswith(b"unreadable"):
            raise SubmissionError(f"{path}: 2000000 bytes is over the 1000000 byte limit")
        if data.startswith(b"noref"):
            raise AutograderError("reference solution not found: reference_solutions/hw1.py")
        if data.startswith(b"gerr"):
            return make_report(
                sha256=digest,
                submission_status="grader error",
                submission_message="reference solution failed to load",
                grader_version=__version__,
            )
        scores = {"linear": Fraction(0)} if data.startswith(b"partial") else {}
        report = make_report(scores, sha256=digest, grader_version=__version__)
        if self.skip_benchmarks:  # as the engine marks a skipped benchmark task
            first = report.tasks[0].model_copy(update={"status": "skipped"})
            report = report.model_copy(update={"tasks": [first, *report.tasks[1:]]})
        return report

    def grade_many(self, items):
        for key, path in items:
            try:
                yield key, self.grade(path)
            except SubmissionError as exc:  # as the engine does
                yield key, exc


@pytest.fixture(autouse=True)
def _reset() -> None:
    FakeGrader.instances.clear()


def folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "subs"
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".zip"):
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("notes.txt", data)
        else:
            path.write_bytes(data)
    return root


def batch(root: Path, db: Path, **kw):
    out = io.StringIO()
    book = open_gradebook(db)
    try:
        summary = run_batch(
            ASSIGNMENT,
            root,
            book,
            grader_factory=FakeGrader,
            console=Console(file=out, width=120),
            **kw,
        )
    finally:
        book.close()
    return summary, out.getvalue()


def attempts(db: Path):
    book = open_gradebook(db)
    try:
        return book.attempts("hw1")
    finally:
        book.close()


def test_a_batch_records_grades_and_problems_and_prints_a_summary(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {
            "alice.py": b"good a",
            "bob/hw1.py": b"partial b",
            "carol.py": b"good c",
            "dave.zip": b"no hw1 here",
        },
    )
    summary, out = batch(root, tmp_path / "gb.sqlite", workers=8)
    assert (summary.found, summary.graded, summary.skipped) == (3, 3, 0)
    assert [(f.student_id, f.source) for f in summary.failures] == [("dave", "dave.zip")]
    assert summary.counted_students == 3
    assert summary.counted_mean == 6.5 and summary.counted_median == 7.5
    [grader] = FakeGrader.instances
    assert grader.workers == 3  # never more workers than submissions
    rows = {a.student_id: a for a in attempts(tmp_path / "gb.sqlite")}
    assert rows["bob"].score == Fraction(9, 2) and rows["bob"].source == "bob/hw1.py"
    assert rows["dave"].status == "failed to grade"
    assert rows["dave"].reason == "no hw1.py inside the zip (it holds: notes.txt)"
    assert "Batch hw1" in out and "Failed to grade" in out and "notes.txt" in out
    assert "6.50 / 7.50" in out
    assert "3/3" in out and "/min" in out and "done" in out  # the progress bar's last frame


def test_default_workers_fit_in_the_available_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker per core unless memory holds fewer; the batch says so."""
    from autograder.batch import run as batch_module

    gb = 2**30
    monkeypatch.setattr(batch_module, "_cores", lambda: 8)
    monkeypatch.setattr(batch_module, "_available_memory", lambda: 64 * gb)
    assert batch_module.default_workers() == (8, "")
    monkeypatch.setattr(batch_module, "_available_memory", lambda: None)
    assert batch_module.default_workers() == (8, "")
    monkeypatch.setattr(batch_module, "_available_memory", lambda: 5 * gb)
    workers, why = batch_module.default_workers()
    assert workers == 5 * gb // batch_module.WORKER_BYTES == 3
    assert "3 workers, not 8: 5.0 GB of memory is available" in why
    monkeypatch.setattr(batch_module, "_available_memory", lambda: gb // 2)
    assert batch_module.default_workers()[0] == 1  # always one

    root = folder(tmp_path, {f"s{i}.py": f"good {i}".encode() for i in range(5)})
    monkeypatch.setattr(batch_module, "_available_memory", lambda: 5 * gb)
    summary, out = batch(root, tmp_path / "gb.sqlite")
    assert summary.graded == 5 and FakeGrader.instances[0].workers == 3
    assert "3 workers, not 8" in " ".join(out.split())
    FakeGrader.instances.clear()
    batch(root, tmp_path / "gb2.sqlite", workers=8)  # asked for: not second-guessed
    assert FakeGrader.instances[0].workers == 5  # one per submission at most


def test_a_rerun_skips_what_is_graded_and_regrade_replaces_it(tmp_path: Path) -> None:
    root = folder(tmp_path, {"alice.py": b"good a", "bob.py": b"good b", "x.zip": b""})
    db = tmp_path / "gb.sqlite"
    batch(root, db)
    summary, _ = batch(root, db)
    assert (summary.graded, summary.skipped, len(summary.failures)) == (0, 2, 1)
    assert len(FakeGrader.instances) == 1  # no grader started when nothing is left
    (root / "bob.py").write_bytes(b"partial b, fixed")
    summary, _ = batch(root, db)
    assert (summary.graded, summary.skipped) == (1, 1)
    assert FakeGrader.instances[-1].graded == ["partial b, fixed"]
    summary, _ = batch(root, db, regrade=True)
    assert (summary.graded, summary.skipped) == (2, 0)
    rows = attempts(db)
    assert sorted(a.student_id for a in rows) == ["alice", "bob", "bob", "x"]


def test_a_full_batch_after_skip_benchmarks_runs_what_was_skipped(tmp_path: Path) -> None:
    root = folder(tmp_path, {"alice.py": b"good a", "bob.py": b"good b"})
    db = tmp_path / "gb.sqlite"
    summary, _ = batch(root, db, skip_benchmarks=True)
    assert (summary.graded, summary.skipped) == (2, 0)
    summary, _ = batch(root, db, skip_benchmarks=True)
    assert (summary.graded, summary.skipped) == (0, 2)
    summary, _ = batch(root, db)  # now with benchmarks: the skipped tasks must run
    assert (summary.graded, summary.skipped) == (2, 0)
    summary, _ = batch(root, db)
    assert (summary.graded, summary.skipped) == (0, 2)
    rows = attempts(db)
    assert len(rows) == 2  # the full grading replaced the partial one: one result per file
    assert all(task.status != "skipped" for a in rows for task in a.report.tasks)


def test_a_crash_on_one_student_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    root = folder(tmp_path, {"a.py": b"good", "b.py": b"crash", "c.py": b"good c", "d.py": b"gerr"})
    summary, out = batch(root, tmp_path / "gb.sqlite")
    assert summary.graded == 2
    reasons = {f.student_id: f.reason for f in summary.failures}
    assert reasons == {
        "b": "grader crashed: RuntimeError: worker pool died",
        "d": "reference solution failed to load",
    }
    rows = {a.student_id: a for a in attempts(tmp_path / "gb.sqlite")}
    assert rows["b"].status == rows["d"].status == "failed to grade"
    assert rows["c"].status == "graded"
    # A rerun retries the failures (they are not "graded"), not the good ones.
    summary, _ = batch(root, tmp_path / "gb.sqlite")
    assert summary.skipped == 2 and len(summary.failures) == 2


def test_the_same_crash_everywhere_stops_the_batch(tmp_path: Path) -> None:
    root = folder(tmp_path, {f"s{i}.py": f"crash {i}".encode() for i in range(6)})
    with pytest.raises(AutograderError, match="crashed on 3 submissions in a row.*3 left"):
        batch(root, tmp_path / "gb.sqlite")
    assert len(attempts(tmp_path / "gb.sqlite")) == 3


def test_a_grader_setup_error_is_fatal_and_records_nothing(tmp_path: Path) -> None:
    root = folder(tmp_path, {"a.py": b"good"})

    def broken(*args, **kw):
        raise DataError("benchmark data missing: looked in /data/catdog")

    book = open_gradebook(tmp_path / "gb.sqlite")
    with pytest.raises(DataError, match="benchmark data missing"):
        run_batch(
            ASSIGNMENT, root, book, grader_factory=broken, console=Console(file=io.StringIO())
        )
    assert book.attempts() == []
    book.close()


def test_ctrl_c_keeps_what_was_recorded_and_a_rerun_finishes(tmp_path: Path) -> None:
    root = folder(
        tmp_path, {"a.py": b"good a", "b.py": b"good b", "c.py": b"interrupt", "d.py": b"good d"}
    )
    db = tmp_path / "gb.sqlite"
    summary, out = batch(root, db)
    assert summary.interrupted and summary.graded == 2
    assert "interrupted: everything recorded so far is kept" in out
    assert [a.student_id for a in attempts(db)] == ["a", "b"]
    (root / "c.py").write_bytes(b"good c")
    summary, _ = batch(root, db)
    assert (summary.graded, summary.skipped) == (2, 2)
    assert [a.student_id for a in attempts(db)] == ["a", "b", "c", "d"]


def test_a_full_gradebook_stops_with_the_summary_and_keeps_results(tmp_path: Path) -> None:
    root = folder(
        tmp_path, {f"s{i:02d}.py": f"good {i}".encode() + b"#" * 20000 for i in range(30)}
    )
    db = tmp_path / "gb.sqlite"
    book = open_gradebook(db)
    pages = book._conn.execute("PRAGMA page_count").fetchone()[0]
    book._conn.execute(f"PRAGMA max_page_count = {pages + 8}")
    out = io.StringIO()
    with pytest.raises(GradebookError, match="free disk space"):
        run_batch(
            ASSIGNMENT, root, book, grader_factory=FakeGrader, console=Console(file=out, width=120)
        )
    book.close()
    assert "Batch hw1" in out.getvalue()
    kept = attempts(db)
    assert 0 < len(kept) < 30 and all(a.report is not None for a in kept)


def test_options_reach_the_grader_and_policy_picks_the_counted_attempt(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    for stamp, data in [("t1", b"good"), ("t2", b"partial")]:
        (root / "hw1" / "ann" / stamp).mkdir(parents=True)
        (root / "hw1" / "ann" / stamp / "hw1.py").write_bytes(data)
        (root / "hw1" / "ann" / stamp / "manifest.json").write_text(
            f'{{"submitted_at": "2025-03-0{stamp[1]}T10:00:00Z"}}'
        )
        time.sleep(0.02)  # the attempts are timed by when the folder received them
    summary, _ = batch(
        root,
        tmp_path / "gb.sqlite",
        skip_benchmarks=True,
        grader_options={"insecure": True},
        policy="best",
    )
    [grader] = FakeGrader.instances
    assert grader.skip_benchmarks and grader.kw == {"insecure": True}
    assert summary.graded == 2 and summary.counted_mean == 7.5
    summary, _ = batch(root, tmp_path / "gb.sqlite")
    assert summary.counted_mean == 4.5  # latest: the partial attempt


def test_an_unreadable_file_is_a_failure_and_a_grader_setup_error_stops(tmp_path: Path) -> None:
    root = folder(tmp_path, {"a.py": b"good", "b.py": b"unreadable"})
    summary, _ = batch(root, tmp_path / "gb.sqlite")
    assert summary.graded == 1
    [failure] = summary.failures
    assert failure.student_id == "b" and "over the 1000000 byte limit" in failure.reason
    assert not failure.reason.startswith("grader crashed")
    root = folder(tmp_path, {"c.py": b"noref"})
    with pytest.raises(AutograderError, match="reference solution not found"):
        batch(root, tmp_path / "gb.sqlite")


# -- end to end: the real engine in subprocesses, interrupted and killed ---------------------

REPO = Path(__file__).resolve().parents[1]


def _graded_rows(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM attempts WHERE status = 'graded'").fetchone()[
                0
            ]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _start_batch(root: Path, db: Path, tmp: Path | None = None):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)  # its temporary folders, and those a killed run left
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograder",
            "batch",
            "hw1",
            str(root),
            "--db",
            str(db),
            "--workers",
            "2",
            "--skip-benchmarks",
            "--course",
            str(REPO),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
        start_new_session=True,  # its own process group: signals reach the workers too
    )


def _signal_after(proc, db: Path, graded: int, sig) -> str:
    """Send ``sig`` to the batch's process group once ``graded`` results are committed."""
    import os
    import time

    deadline = time.monotonic() + 240
    while proc.poll() is None and _graded_rows(db) < graded and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=120)
    return out.decode(errors="replace")


def test_end_to_end_interrupted_killed_and_rerun_gives_one_result_each(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import shutil
    import signal
    import sqlite3
    import tempfile

    reference = (REPO / "reference_solutions" / "hw1.py").read_bytes()
    root = tmp_path / "subs"
    root.mkdir()
    for i in range(2):
        (root / f"s{i}.py").write_bytes(reference + f"\n# student {i}\n".encode())
    (root / "syntax.py").write_bytes(b"def softmax(:\n")
    (root / "exiter.py").write_bytes(b"import os\nos._exit(3)\n")
    with zipfile.ZipFile(root / "nozip.zip", "w") as zf:
        zf.writestr("notes.txt", "forgot the file")
    attempt = root / "hw1" / "tara" / "20250301T100000Z"
    attempt.mkdir(parents=True)
    (attempt / "hw1.py").write_bytes(reference + b"\n# tara\n")
    (attempt / "manifest.json").write_text('{"submitted_at": "2025-03-01T10:00:00Z"}')
    db = tmp_path / "gb.sqlite"
    # under /tmp, not tmp_path: the sandbox uid must be able to enter the slots' folders
    temp = Path(tempfile.mkdtemp(prefix="ag-batch-test-"))
    temp.chmod(0o711)
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))

    first = _start_batch(root, db, temp)
    out = _signal_after(first, db, 1, signal.SIGINT)
    assert first.returncode in (130, 1, 0), out  # 0/1 only if it finished before the signal
    if first.returncode == 130:
        assert "interrupted: everything recorded so far is kept" in out
        assert "Traceback" not in out
    second = _start_batch(root, db, temp)
    _signal_after(second, db, _graded_rows(db) + 1, signal.SIGKILL)
    left = sorted(p.name for p in temp.iterdir())
    assert any(name.startswith("autograder-slot-") for name in left), left  # killed: left
    third = _start_batch(root, db, temp)
    out, _ = third.communicate(timeout=300)
    out = out.decode(errors="replace")
    assert third.returncode == 1, out  # nozip.zip still failed to grade
    assert "no hw1.py inside the zip" in out
    # the third run removed what the killed one left, and its own folders on the way out
    assert [p.name for p in temp.iterdir()] == []

    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT student_id, sha256, status FROM attempts ORDER BY student_id"
    ).fetchall()
    conn.close()
    keys = [(student, sha) for student, sha, _ in rows]
    assert len(keys) == len(set(keys)) == 6
    status = {student: st for student, _, st in rows}
    assert status == {
        **{f"s{i}": "graded" for i in range(2)},
        "syntax": "graded",
        "exiter": "graded",
        "tara": "graded",
        "nozip": "failed to grade",
    }
    book = open_gradebook(db)
    counted = book.counted("hw1")
    book.close()
    assert counted["s0"].score == counted["tara"].score > 0
    assert counted["syntax"].score == 0 and counted["exiter"].score == 0
    # timed by when the collection received the file, not by the manifest's claim (2025)
    received = counted["tara"].submitted_at.replace(tzinfo=UTC)
    assert abs(received - datetime.now(UTC)) < timedelta(hours=1)


# -- submission times: nothing the student controls (issue 13, class 8) --------------------

TIME_RUBRIC = """
[course]
title = "T"
[final_grade]
divisor = 1
scale_max = 10
[[components]]
id = "hw1"
title = "Homework 1"
kind = "homework"
max_points = "15/2"
deadline = {deadline}
late = {{ kind = "per_day", fraction_per_day = "1/10", max_days = 7 }}
"""


def _attempt(root: Path, student: str, stamp: str, data: bytes, claim: str) -> None:
    folder = root / "hw1" / student / stamp
    folder.mkdir(parents=True)
    (folder / "hw1.py").write_bytes(data)
    (folder / "manifest.json").write_text(
        json.dumps({"student_id": student, "submitted_at": claim})
    )


def test_an_edited_manifest_does_not_change_lateness(tmp_path: Path) -> None:
    """The student edits ``submitted_at`` to a time before the deadline: the batch times the
    attempt by when the collection received it, shows the claim beside it, and ``final``
    takes the late penalty as if the manifest said nothing."""
    from autograder.final.compute import compute_final_grades
    from autograder.final.rubric import parse_rubric

    deadline = datetime.now(UTC) - timedelta(days=2, hours=1)  # received 3 days late
    root = tmp_path / "subs"
    _attempt(root, "mallory", "20250101T000000000000Z", b"good", "2025-01-01T00:00:00Z")
    _attempt(root, "honest", "20250101T000000000000Z", b"good", "not even a time")
    summary, out = batch(root, tmp_path / "gb.sqlite")
    assert summary.graded == 2 and summary.failures == []
    assert summary.timed_by == {"received": 2}
    [claim] = summary.claims  # honest's unreadable claim is simply not shown
    assert claim.student_id == "mallory" and claim.claimed.year == 2025
    assert abs(claim.trusted - datetime.now(UTC)) < timedelta(minutes=10)
    text = " ".join(out.split())
    assert "Manifest times that differ from the trusted time (not used)" in text
    assert "2025-01-01 00:00:00+00:00" in text
    assert "by when the collection received the file" in text

    rubric = parse_rubric(TIME_RUBRIC.format(deadline=deadline.isoformat()), "rubric.toml")
    book = open_gradebook(tmp_path / "gb.sqlite")
    grades = compute_final_grades(rubric, book, None)
    book.close()
    for student in ("mallory", "honest"):
        [part] = grades.student(student).components
        assert part.lateness.days_late == 3, part.lateness
        assert part.points == Fraction(15, 2) - 3 * Fraction(3, 4)


def test_the_lms_export_times_each_students_one_submission(tmp_path: Path) -> None:
    root = folder(tmp_path, {"ann.py": b"good", "bob/hw1.py": b"good", "cat.zip": b"x"})
    _attempt(root, "dan", "t1", b"good", "2030-01-01T00:00:00Z")
    _attempt(root, "dan", "t2", b"partial", "2030-01-01T00:00:00Z")
    ann = datetime(2026, 10, 5, 20, 0, tzinfo=UTC)
    times = {"ann": ann, "dan": ann, "eve": ann}
    summary, out = batch(root, tmp_path / "gb.sqlite", times=times)
    assert summary.timed_by == {"lms export": 1, "received": 3}
    text = " ".join(out.split())
    assert (
        "1 student(s) not in the LMS export: timed by when the collection received the file: bob"
        in text
    )
    assert (
        "several attempts, but the LMS export gives one time per student" in text
        and "dan (2)" in text
    )
    assert "in the LMS export, but no submission found: eve" in text
    book = open_gradebook(tmp_path / "gb.sqlite")
    counted = book.counted("hw1")
    book.close()
    assert counted["ann"].submitted_at.replace(tzinfo=UTC) == ann
    assert counted["bob"].submitted_at.replace(tzinfo=UTC) > ann
