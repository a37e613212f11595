"""The gradebook: durable attempts and adjustments behind one small interface.

``open_gradebook`` is the only constructor callers use, so another store (PostgreSQL through
SQLAlchemy for several TAs sharing one gradebook) can be added by implementing
:class:`Gradebook` and one more URL scheme here, without touching callers.
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.errors import GradebookError
from autograder.gradebook.models import (
    POLICIES,
    UNIDENTIFIED,
    Adjustment,
    Attempt,
    AttemptStatus,
    Policy,
    current_gradings,
    is_identified,
    select_counted,
)
from autograder.gradebook.protocol import Gradebook
from autograder.gradebook.store import SqliteGradebook

__all__ = [
    "POLICIES",
    "UNIDENTIFIED",
    "Adjustment",
    "Attempt",
    "AttemptStatus",
    "Gradebook",
    "Policy",
    "SqliteGradebook",
    "current_gradings",
    "is_identified",
    "open_gradebook",
    "select_counted",
]

_SERVER_SCHEMES = ("postgresql", "postgres", "mysql", "mariadb")


def open_gradebook(target: str | os.PathLike, *, create: bool = True) -> Gradebook:
    """Open (and by default create) a gradebook.

    Args:
        target: A file path (``gradebook.sqlite``) or a URL ``sqlite:///gradebook.sqlite``
            (``sqlite:////abs/path.sqlite`` for an absolute path).
        create: When False, a missing SQLite file is an error instead of a new gradebook
            (exports and reports should not invent an empty one).

    Raises:
        GradebookError: Unsupported URL scheme, missing folder or file, not a gradebook.
    """
    text = os.fspath(target)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        scheme = scheme.split("+", 1)[0].lower()
        if scheme == "sqlite":
            if not rest.startswith("/") or rest == "/":
                raise GradebookError(
                    f"gradebook URL {text!r}: expected sqlite:///relative/path.sqlite "
                    "or sqlite:////absolute/path.sqlite"
                )
            return SqliteGradebook(Path(rest[1:]), create=create)
        if scheme in _SERVER_SCHEMES:
            raise GradebookError(
                f"gradebook URL {text!r}: {scheme} is not supported yet: install a server store "
                "(implement autograder.gradebook.Gradebook) or use a .sqlite file"
            )
        raise GradebookError(f"gradebook URL {text!r}: unknown scheme {scheme!r}")
    return SqliteGradebook(Path(text), create=create)
