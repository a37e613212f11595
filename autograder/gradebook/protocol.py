"""The gradebook interface: everything the batch, exports and final grades need from storage.

``SqliteGradebook`` (``store.py``) is the only implementation today. A server database shared by
several TAs (PostgreSQL through SQLAlchemy, say) slots in by implementing this protocol and
adding its URL scheme to ``open_gradebook``. What such a store must keep:

- one atomic transaction per ``record``/``record_failure``/``add_adjustment`` call;
- a unique key on (assignment, student_id, sha256, spec_hash, grader_version), so a resumed or
  concurrent batch can never hold two results for one submission: a graded report replaces
  whatever is stored under its key, a failure never replaces a graded result;
- timestamps in UTC and the full report as JSON (``Report.model_dump_json()``);
- ``counted`` picking attempts with ``models.select_counted`` so every store agrees.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Protocol, runtime_checkable

from autograder.gradebook.models import Adjustment, Attempt, Policy
from autograder.report import Report


@runtime_checkable
class Gradebook(Protocol):
    """Durable store of graded attempts and TA adjustments."""

    def record(
        self, report: Report, *, student_id: str, submitted_at: datetime | None, source: str
    ) -> int:
        """Store one graded report in one transaction; returns the attempt id.

        A report whose ``submission_status`` is ``"grader error"`` is stored as
        ``"failed to grade"``: the grader, not the student, failed, so a rerun retries it.
        """
        ...

    def record_failure(
        self,
        *,
        assignment: str,
        student_id: str,
        sha256: str,
        reason: str,
        source: str,
        submitted_at: datetime | None,
        spec_hash: str,
        grader_version: str,
    ) -> int:
        """Store a submission that could not be graded, with the reason; returns the attempt id."""
        ...

    def is_graded(
        self, *, assignment: str, student_id: str, sha256: str, spec_hash: str, grader_version: str
    ) -> bool:
        """True when this exact file was graded with this spec and grader version."""
        ...

    def attempts(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Attempt]:
        """All attempts (history), oldest first, optionally filtered."""
        ...

    def counted(self, assignment: str, policy: Policy = "latest") -> dict[str, Attempt]:
        """student_id -> the attempt that counts under ``policy``."""
        ...

    def students(self) -> list[str]:
        """Every student id with at least one attempt, sorted."""
        ...

    def assignments(self) -> list[str]:
        """Every assignment id with at least one attempt, sorted."""
        ...

    def add_adjustment(
        self,
        *,
        assignment: str,
        student_id: str,
        task_id: str,
        points: Fraction,
        reason: str,
        author: str,
    ) -> int:
        """Override one task's score for one student; the newest override wins."""
        ...

    def adjustments(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Adjustment]:
        """Adjustments, oldest first, optionally filtered."""
        ...

    def close(self) -> None:
        """Release the connection; the store is unusable afterwards."""
        ...
