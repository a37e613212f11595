"""SQLite gradebook: the default store, one file, no server.

WAL mode lets reports and exports read while a batch writes; every write is one
``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``, so a process killed at any instant
leaves either the whole attempt or nothing. The unique key makes reruns idempotent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from pydantic import ValidationError

from autograder.errors import GradebookError
from autograder.gradebook.models import (
    Adjustment,
    Attempt,
    Policy,
    as_utc,
    select_counted,
    utc_now,
)
from autograder.points import fraction_str
from autograder.report import Report

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment TEXT NOT NULL,
    student_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('graded', 'failed to grade')),
    reason TEXT NOT NULL DEFAULT '',
    score_exact TEXT NOT NULL,
    max_score_exact TEXT NOT NULL,
    report_json TEXT,
    submitted_at TEXT,
    graded_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    seconds REAL NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    UNIQUE (assignment, student_id, sha256, spec_hash, grader_version)
);
CREATE INDEX IF NOT EXISTS attempts_by_student ON attempts (assignment, student_id);
CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment TEXT NOT NULL,
    student_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    points TEXT NOT NULL,
    reason TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

_COLUMNS = (
    "assignment, student_id, sha256, spec_hash, grader_version, status, reason, score_exact, "
    "max_score_exact, report_json, submitted_at, graded_at, started_at, finished_at, seconds, source"
)
_KEY = "assignment, student_id, sha256, spec_hash, grader_version"
# A graded result replaces whatever its key holds (a regrade); a failure only replaces a
# failure, so a grader crash during --regrade never destroys a good grade.
_UPSERT = f"""
INSERT INTO attempts ({_COLUMNS})
VALUES (:assignment, :student_id, :sha256, :spec_hash, :grader_version, :status, :reason,
        :score_exact, :max_score_exact, :report_json, :submitted_at, :graded_at, :started_at,
        :finished_at, :seconds, :source)
ON CONFLICT ({_KEY}) DO UPDATE SET
    status = excluded.status, reason = excluded.reason, score_exact = excluded.score_exact,
    max_score_exact = excluded.max_score_exact, report_json = excluded.report_json,
    submitted_at = excluded.submitted_at, graded_at = excluded.graded_at,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    seconds = excluded.seconds, source = excluded.source
WHERE excluded.status = 'graded' OR attempts.status != 'graded'
"""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


class SqliteGradebook:
    """The :class:`~autograder.gradebook.protocol.Gradebook` stored in one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise GradebookError(f"gradebook {self.path} does not exist")
        if not self.path.parent.is_dir():
            raise GradebookError(f"gradebook {self.path}: folder {self.path.parent} does not exist")
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.Error as exc:
            raise self._error("cannot open", exc) from None

    # -- plumbing -------------------------------------------------------------------------

    def _error(self, what: str, exc: sqlite3.Error) -> GradebookError:
        text = str(exc)
        hint = ""
        if "full" in text:
            hint = "; free disk space and rerun: results recorded before this are intact"
        elif "locked" in text or "busy" in text:
            hint = f"; another process held the gradebook for over {BUSY_TIMEOUT_S:.0f} s"
        elif "not a database" in text:
            hint = "; is this the right file?"
        return GradebookError(f"gradebook {self.path}: {what}: {text}{hint}")

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(what, exc) from None
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._error(what, exc) from None
            raise

    def _read(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error("cannot read", exc) from None

    def _migrate(self) -> None:
        with self._write("cannot create the schema") as conn:
            # executescript would commit on its own; run statement by statement instead.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = row[0]
            if version is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version > SCHEMA_VERSION:
                raise GradebookError(
                    f"gradebook {self.path}: schema version {version} was written by a newer "
                    f"autograder (this one reads up to {SCHEMA_VERSION}); upgrade autograder"
                )

    # -- writing --------------------------------------------------------------------------

    def _upsert(self, row: dict, what: str) -> int:
        if not row["student_id"]:
            raise GradebookError(f"gradebook {self.path}: {what}: empty student id")
        with self._write(what) as conn:
            got = conn.execute(_UPSERT + " RETURNING id", row).fetchone()
            if got is None:  # a failure met a graded result: keep the grade
                got = conn.execute(
                    f"SELECT id FROM attempts WHERE ({_KEY}) = (?, ?, ?, ?, ?)",
                    tuple(row[k] for k in _KEY.split(", ")),
                ).fetchone()
            return int(got[0])

    def record(
        self, report: Report, *, student_id: str, submitted_at: datetime | None, source: str
    ) -> int:
        """Store one graded report (see the protocol); returns the attempt id."""
        failed = report.submission_status == "grader error"
        row = {
            "assignment": report.assignment,
            "student_id": student_id,
            "sha256": report.sha256,
            "spec_hash": report.spec_hash,
            "grader_version": report.grader_version,
            "status": "failed to grade" if failed else "graded",
            "reason": report.submission_message if failed else "",
            "score_exact": "0" if failed else report.score_exact,
            "max_score_exact": report.max_score_exact,
            "report_json": report.model_dump_json(),
            "submitted_at": _iso(submitted_at),
            "graded_at": _iso(utc_now()),
            "started_at": _iso(_parse_time(report.started_at)),
            "finished_at": _iso(_parse_time(report.finished_at)),
            "seconds": report.seconds,
            "source": source,
        }
        return self._upsert(row, f"cannot record {report.assignment}/{student_id}")

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
        """Store a submission that could not be graded; returns the attempt id."""
        row = {
            "assignment": assignment,
            "student_id": student_id,
            "sha256": sha256,
            "spec_hash": spec_hash,
            "grader_version": grader_version,
            "status": "failed to grade",
            "reason": reason,
            "score_exact": "0",
            "max_score_exact": "0",
            "report_json": None,
            "submitted_at": _iso(submitted_at),
            "graded_at": _iso(utc_now()),
            "started_at": None,
            "finished_at": None,
            "seconds": 0.0,
            "source": source,
        }
        return self._upsert(row, f"cannot record the failure of {assignment}/{student_id}")

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
        """Store an override of one task's score; returns the adjustment id."""
        with self._write(f"cannot adjust {assignment}/{student_id}/{task_id}") as conn:
            cur = conn.execute(
                "INSERT INTO adjustments (assignment, student_id, task_id, points, reason, author,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    assignment,
                    student_id,
                    task_id,
                    fraction_str(Fraction(points)),
                    reason,
                    author,
                    _iso(utc_now()),
                ),
            )
            return int(cur.lastrowid)

    # -- reading --------------------------------------------------------------------------

    def is_graded(
        self, *, assignment: str, student_id: str, sha256: str, spec_hash: str, grader_version: str
    ) -> bool:
        """True when this exact file was graded with this spec and grader version."""
        rows = self._read(
            f"SELECT 1 FROM attempts WHERE ({_KEY}) = (?, ?, ?, ?, ?) AND status = 'graded'",
            (assignment, student_id, sha256, spec_hash, grader_version),
        )
        return bool(rows)

    def _attempt(self, row: sqlite3.Row) -> Attempt:
        report = None
        if row["report_json"] is not None:
            try:
                report = Report.model_validate_json(row["report_json"])
            except ValidationError as exc:
                first = exc.errors()[0]
                raise GradebookError(
                    f"gradebook {self.path}: attempt {row['id']} holds a report this version "
                    f"cannot read ({'.'.join(map(str, first['loc']))}: {first['msg']})"
                ) from None
        return Attempt(
            id=row["id"],
            assignment=row["assignment"],
            student_id=row["student_id"],
            sha256=row["sha256"],
            status=row["status"],
            reason=row["reason"],
            score_exact=row["score_exact"],
            max_score_exact=row["max_score_exact"],
            report=report,
            submitted_at=_parse_time(row["submitted_at"]),
            graded_at=_parse_time(row["graded_at"]),
            started_at=_parse_time(row["started_at"]),
            finished_at=_parse_time(row["finished_at"]),
            seconds=row["seconds"],
            grader_version=row["grader_version"],
            spec_hash=row["spec_hash"],
            source=row["source"],
        )

    @staticmethod
    def _where(assignment: str | None, student_id: str | None) -> tuple[str, tuple]:
        clauses, params = [], []
        if assignment is not None:
            clauses.append("assignment = ?")
            params.append(assignment)
        if student_id is not None:
            clauses.append("student_id = ?")
            params.append(student_id)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def attempts(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Attempt]:
        """All attempts, ordered by assignment, student and time."""
        where, params = self._where(assignment, student_id)
        rows = self._read(
            f"SELECT * FROM attempts{where} "
            "ORDER BY assignment, student_id, COALESCE(submitted_at, graded_at), id",
            params,
        )
        return [self._attempt(row) for row in rows]

    def counted(self, assignment: str, policy: Policy = "latest") -> dict[str, Attempt]:
        """student_id -> the attempt that counts (see ``models.select_counted``)."""
        return select_counted(self.attempts(assignment), policy)

    def students(self) -> list[str]:
        """Every student id with an attempt, sorted."""
        return [r[0] for r in self._read("SELECT DISTINCT student_id FROM attempts ORDER BY 1")]

    def assignments(self) -> list[str]:
        """Every assignment id with an attempt, sorted."""
        return [r[0] for r in self._read("SELECT DISTINCT assignment FROM attempts ORDER BY 1")]

    def adjustments(
        self, assignment: str | None = None, student_id: str | None = None
    ) -> list[Adjustment]:
        """Adjustments, oldest first."""
        where, params = self._where(assignment, student_id)
        rows = self._read(f"SELECT * FROM adjustments{where} ORDER BY id", params)
        return [
            Adjustment(
                id=r["id"],
                assignment=r["assignment"],
                student_id=r["student_id"],
                task_id=r["task_id"],
                points=r["points"],
                reason=r["reason"],
                author=r["author"],
                created_at=_parse_time(r["created_at"]),
            )
            for r in rows
        ]

    def close(self) -> None:
        """Close the connection (checkpointing the WAL when it is the last one)."""
        self._conn.close()

    def __enter__(self) -> SqliteGradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
