"""What a check concludes: an outcome (a fraction in [0, 1], a status, a message the student may
read, staff detail, measurements), from probe pairs (the student's and the reference's raw
results for one probe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from autograder.trusted.probe import Probe
from autograder.trusted.raw import ProbeRaw


@dataclass
class Outcome:
    fraction: Fraction
    status: str
    message: str = ""
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str = "", **metrics: Any) -> Outcome:
        return cls(Fraction(1), "passed", message, metrics=metrics)

    @classmethod
    def failed(cls, message: str, status: str = "failed", detail: str = "") -> Outcome:
        return cls(Fraction(0), status, message, detail)


@dataclass
class ProbePair:
    """A probe with what the student's worker and the reference's worker returned for it."""

    probe: Probe
    student: ProbeRaw
    reference: ProbeRaw
    # Facts only the trusted side holds (the benchmark's test labels).
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.probe.header.get("label") or f"case {self.probe.id.rsplit('/', 1)[-1]}")


def raw_failure(pair: ProbePair) -> Outcome | None:
    """The outcome when either side did not produce outputs, else None."""
    if pair.reference.status != "ok":
        return Outcome.failed(
            "the grader could not compute the expected result for this check; staff have been told",
            status="grader error",
            detail=f"reference failed on {pair.probe.id}: {pair.reference.status}: {pair.reference.message}",
        )
    if pair.student.status != "ok":
        return Outcome.failed(f"{pair.label}: {pair.student.message}", status=pair.student.status)
    return None
