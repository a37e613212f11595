"""Errors the grader raises about its own inputs (never about a student's code).

A student's mistakes become statuses in a report; these exceptions mean the grader itself
could not run, and the CLI prints them as one located line without a traceback.
"""

from __future__ import annotations


class AutograderError(Exception):
    """Base of every error the CLI reports as a one-line message."""


class SpecError(AutograderError):
    """An assignment spec or rubric is malformed; the message names file, field and problem."""


class SubmissionError(AutograderError):
    """The submission path cannot be graded at all (missing, a folder, unreadable)."""


class DataError(AutograderError):
    """Benchmark data is missing or corrupt; the message says where it was looked for."""


class WorkerProtocolError(AutograderError):
    """A worker sent bytes that do not follow the wire protocol.

    ``frames``: the whole frames that arrived before the violation (set by the reader).
    """

    frames: list = []


class GradebookError(AutograderError):
    """The gradebook database cannot be opened or written."""


class ExamCSVError(AutograderError):
    """The exam results CSV is unreadable or malformed; one line per problem, with line numbers."""


class TimesCSVError(AutograderError):
    """The LMS export of submission times is unreadable or malformed; one line per problem."""


class OutputError(AutograderError):
    """An output file cannot be written; nothing partial is left in its place."""


class SandboxError(AutograderError):
    """The worker sandbox cannot be set up as probed, or isolation too weak for what was asked."""


class KitError(AutograderError):
    """A student kit is missing, modified or built for another grader version."""


class GradingInterrupted(AutograderError):
    """Grading was stopped (Ctrl-C) while a submission was running; nothing was recorded for it."""
