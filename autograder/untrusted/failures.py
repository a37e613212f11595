"""How a probe fails with a status of its own rather than as an exception of the student's."""

from __future__ import annotations


class ProbeError(Exception):
    """A student-caused failure with a message the student can read; ``status`` classifies it."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BudgetExceeded(Exception):
    """Training ran past the spec's wall-clock budget."""
