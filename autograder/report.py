"""Typed grade reports: what the trusted side concluded about one submission.

Reports are plain data. Renderers, the gradebook and exporters read them and never re-score.
Field names in ``Report.model_dump()`` (``assignment``, ``score``, ``max_score``, ``tasks`` with
``id``, ``symbols``, ``score``, ``max_score``, ``status``, ``message``) are a stable interface:
other tools parse them.

Points are exact fractions inside the grader (``score_exact`` as ``"p/q"``) and rounded floats
for display (``score``), so sums over tasks never drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Task and check statuses, from best to worst. A task's status is its worst check's status
# except that a mix of passed and failed checks is "partial".
Status = Literal[
    "passed",
    "partial",
    "failed",
    "skipped",
    "not implemented",
    "missing symbol",
    "error",
    "forbidden API",
    "timeout",
    "memory limit exceeded",
    "output too large",
    "crashed",
    "import error",
    "grader error",
]


class CheckResult(BaseModel):
    """One check of one task (e.g. ``softmax`` forward on every case)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    symbol: str | None = None
    score: float
    max_score: float
    score_exact: str
    max_score_exact: str
    status: Status
    message: str = ""
    # Staff-only detail (never shown for hidden tasks): inputs, errors, worker tracebacks.
    detail: str = ""
    # Benchmark and other measurements (accuracy, loss curve, seconds), plain JSON.
    metrics: dict = Field(default_factory=dict)


class TaskResult(BaseModel):
    """One task of an assignment; ``message`` is what the student reads."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    symbols: list[str]
    visibility: Literal["public", "hidden"]
    score: float
    max_score: float
    score_exact: str
    max_score_exact: str
    status: Status
    message: str
    checks: list[CheckResult]
    seconds: float = 0.0


class Report(BaseModel):
    """The whole grade of one submission file against one assignment spec."""

    model_config = ConfigDict(extra="forbid")

    assignment: str
    title: str
    submission: str
    sha256: str
    score: float
    max_score: float
    score_exact: str
    max_score_exact: str
    tasks: list[TaskResult]
    grader_version: str
    spec_hash: str
    isolation: dict = Field(default_factory=dict)
    # Set when the whole submission could not be run (syntax error, import crash).
    submission_status: str = "graded"
    submission_message: str = ""
    started_at: str
    finished_at: str
    seconds: float
    stdout_tail: str = ""

    def task(self, task_id: str) -> TaskResult:
        """The task with this id; ``KeyError`` if absent."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)
