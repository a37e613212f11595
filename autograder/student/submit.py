"""``autograder submit``: check a file locally, then file it as a new attempt in a shared folder.

Each attempt is ``DEST/<assignment>/<student_id>/<UTC timestamp>/`` holding the file (under the
spec's ``student_file`` name) and ``manifest.json``, exactly the layout ``autograder batch``
reads (``batch/intake.py``). The folder is written under a temporary name inside the student's
folder and renamed into place, so an attempt is complete or absent, and an earlier attempt is
never overwritten. Everything in the manifest is the student's own claim, the local score and
``submitted_at`` included: the course grades the file again, and ``batch`` times the attempt
by when the shared folder received the file (or by the LMS's record), showing the manifest's
time only beside it when they disagree.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from autograder.errors import OutputError, SubmissionError
from autograder.points import fraction_str
from autograder.report import Report
from autograder.spec.course import find_course
from autograder.spec.load import load_assignment
from autograder.spec.public import public_assignment, server_only
from autograder.student.kit import kit_grader, load_kit
from autograder.submission import read_submission, submit_id_problem
from autograder.trusted.engine import Grader
from autograder.version import __version__

MANIFEST = "manifest.json"
_MAX_SUFFIX = 100


class LocalCheck(BaseModel):
    """The public checks as run on the student's machine (a claim; the course regrades)."""

    model_config = ConfigDict(extra="forbid")

    score: float
    max_score: float
    score_exact: str
    max_score_exact: str
    skipped_points: str
    status: str
    message: str
    tasks: dict[str, str]


class SubmitManifest(BaseModel):
    """``manifest.json`` of one attempt; ``batch`` checks ``student_id`` and shows
    ``submitted_at`` as the student's claim (never as the submission time)."""

    model_config = ConfigDict(extra="forbid")

    assignment: str
    student_id: str
    file: str
    sha256: str
    size: int
    submitted_at: str
    grader_version: str
    checked_with: dict[str, str]
    local_check: LocalCheck
    forced: bool


class Submitted(BaseModel):
    """What :func:`submit` did: the attempt folder, its manifest and the local report."""

    attempt: Path
    manifest: SubmitManifest
    report: Report


def attempt_name(when: datetime) -> str:
    """``YYYYmmddTHHMMSSffffffZ`` in UTC: sorts by time, safe on every file system."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def write_attempt(dest: Path, manifest: SubmitManifest, source: bytes, when: datetime) -> Path:
    """Write ``dest/<assignment>/<student>/<time>[-n]/{file, manifest.json}`` atomically.

    Returns the attempt folder. An existing attempt folder of the same name gets a ``-1``,
    ``-2``, ... suffix instead of being touched.
    """
    student = dest / manifest.assignment / manifest.student_id
    tmp = student / f".tmp-{secrets.token_hex(8)}"
    try:
        student.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        _write_synced(tmp / manifest.file, source)
        _write_synced(tmp / MANIFEST, (manifest.model_dump_json(indent=2) + "\n").encode())
        stamp = attempt_name(when)
        for n in range(_MAX_SUFFIX):
            target = student / (stamp if n == 0 else f"{stamp}-{n}")
            if target.exists():
                continue
            try:
                os.rename(tmp, target)  # a non-empty existing folder makes this fail, never merge
                return target
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        raise OutputError(f"{student}: {_MAX_SUFFIX} attempts named {stamp}; not written")
    except OSError as exc:
        raise OutputError(f"{student}: cannot write the submission: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _local_check(report: Report) -> LocalCheck:
    skipped = sum(
        (Fraction(t.max_score_exact) for t in report.tasks if t.status == "skipped"), Fraction(0)
    )
    return LocalCheck(
        score=report.score,
        max_score=report.max_score,
        score_exact=report.score_exact,
        max_score_exact=report.max_score_exact,
        skipped_points=fraction_str(skipped),
        status=report.submission_status,
        message=report.submission_message[:500],
        tasks={t.id: f"{t.status}: {t.score_exact} of {t.max_score_exact}" for t in report.tasks},
    )


def _checks(
    assignment_id: str, kit: Path | None, course: str | None
) -> tuple[Grader, dict[str, str]]:
    """The public checks, from a kit or from the course; and what the manifest says about them."""
    if kit is not None:
        loaded_kit = load_kit(kit, assignment_id)
        where = {
            "kit": str(loaded_kit.root.resolve()),
            "kit_spec_hash": loaded_kit.manifest.kit_spec_hash,
        }
        return kit_grader(loaded_kit), where
    loaded = load_assignment(assignment_id, find_course(course))
    public = public_assignment(loaded)
    assert loaded.course is not None
    where = {"course": str(loaded.course.root), "spec_hash": loaded.spec_hash}
    return Grader(public, skip=server_only(public.spec)), where


def _precheck(file: Path, student_id: str, dest: Path) -> bytes:
    """Everything refusable without running code: id, destination, file; returns the bytes."""
    why = submit_id_problem(student_id)
    if why:
        raise SubmissionError(why)
    if not dest.is_dir():
        raise SubmissionError(
            f"--to {dest}: no such folder (the course's submission folder must exist)"
        )
    return read_submission(file)


class Submitter:
    """Public checks for one assignment (workers started once), filing any number of attempts.

    Use as a context manager; :func:`submit` is the one-shot form.
    """

    def __init__(
        self, assignment_id: str, *, kit: Path | None = None, course: str | None = None
    ) -> None:
        self.grader, self.checked_with = _checks(assignment_id, kit, course)

    def __enter__(self) -> Submitter:
        self.grader.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.grader.__exit__(*exc)

    def submit(self, file: Path, *, student_id: str, dest: Path, force: bool = False) -> Submitted:
        """Check ``file``, refuse it if it does not import (unless ``force``), file an attempt."""
        source = _precheck(file, student_id, dest)
        report = self.grader.grade(file, display_name=file.name)
        if report.submission_status == "import error" and not force:
            raise SubmissionError(
                f"{file} does not import: {report.submission_message}; nothing was submitted "
                "(fix it, or pass --force to submit it anyway)"
            )
        when = datetime.now(UTC)
        spec = self.grader.spec
        manifest = SubmitManifest(
            assignment=spec.id,
            student_id=student_id,
            file=spec.student_file,
            sha256=hashlib.sha256(source).hexdigest(),
            size=len(source),
            submitted_at=when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            grader_version=__version__,
            checked_with=self.checked_with,
            local_check=_local_check(report),
            forced=force and report.submission_status == "import error",
        )
        attempt = write_attempt(dest, manifest, source, when)
        return Submitted(attempt=attempt, manifest=manifest, report=report)


def submit(
    assignment_id: str,
    file: Path,
    *,
    student_id: str,
    dest: Path,
    kit: Path | None = None,
    course: str | None = None,
    force: bool = False,
) -> Submitted:
    """Run the public checks on ``file`` and file it as a new attempt under ``dest``.

    Raises:
        SubmissionError: a bad student id, a missing or too large file, no such ``dest``, or
            a file that does not import (unless ``force``).
        KitError, SpecError: the kit or the course cannot be used.
        OutputError: the attempt cannot be written (nothing is left half-written).
    """
    _precheck(file, student_id, dest)  # refuse before starting any worker
    with Submitter(assignment_id, kit=kit, course=course) as submitter:
        return submitter.submit(file, student_id=student_id, dest=dest, force=force)


def read_manifest(attempt: Path) -> SubmitManifest:
    """An attempt's manifest, validated (for tests and tools)."""
    return SubmitManifest.model_validate(
        json.loads((attempt / MANIFEST).read_text(encoding="utf-8"))
    )
