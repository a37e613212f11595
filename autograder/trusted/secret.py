"""The course secret: what makes held-out splits and training orders unpredictable to students.

Seeds that a student must not predict (which examples of a dataset are held out, the order a
benchmark trains in) derive from names *plus* this secret; every other seed derives from names
alone. The secret lives in the grader's configuration, never in this repository or a kit:
``AUTOGRADER_SECRET`` (the text itself), else the file named by ``AUTOGRADER_SECRET_FILE``, else
``~/.config/autograder/course-secret``. ``autograder secret init`` writes the last one.

Without a secret the grader uses a public development value and says so in every report, so a
student's local run and a course server's run are never confused.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError

SECRET_ENV = "AUTOGRADER_SECRET"
SECRET_FILE_ENV = "AUTOGRADER_SECRET_FILE"
PUBLIC = "public development secret"
_MAX_BYTES = 4096


@dataclass(frozen=True)
class CourseSecret:
    """The secret's bytes and where they came from (never printed)."""

    value: bytes
    origin: str

    @property
    def public(self) -> bool:
        return self.origin == PUBLIC

    @property
    def fingerprint(self) -> str:
        """A short hash that identifies the secret in reports and cache keys, revealing nothing."""
        return hashlib.sha256(b"autograder-secret/" + self.value).hexdigest()[:16]

    def seed(self, *parts: object) -> int:
        """A 63-bit seed from the secret and names; unpredictable without the secret."""
        text = "/".join(str(p) for p in parts).encode()
        digest = hashlib.sha256(self.value + b"\0" + text).digest()
        return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def default_path() -> Path:
    return Path.home() / ".config" / "autograder" / "course-secret"


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()[: _MAX_BYTES + 1]
    except OSError as exc:
        raise AutograderError(f"{path}: cannot read the course secret: {exc.strerror}") from None
    value = data.strip()
    if not value or len(value) > _MAX_BYTES:
        raise AutograderError(f"{path}: the course secret must hold 1 to {_MAX_BYTES} bytes")
    return value


def course_secret() -> CourseSecret:
    """The configured secret, or the public development value when none is configured."""
    text = os.environ.get(SECRET_ENV, "")
    if text.strip():
        return CourseSecret(text.strip().encode(), SECRET_ENV)
    named = os.environ.get(SECRET_FILE_ENV, "")
    if named:
        return CourseSecret(_read(Path(named).expanduser()), SECRET_FILE_ENV)
    path = default_path()
    if path.is_file():
        return CourseSecret(_read(path), str(path))
    return CourseSecret(b"autograder public development secret", PUBLIC)


def write_new_secret(path: Path | None = None) -> Path:
    """Create a new random secret at ``path`` (default ``~/.config/autograder/course-secret``),
    readable by its owner only. Refuses to overwrite one: regrades would change every split."""
    path = path or default_path()
    if path.exists():
        raise AutograderError(
            f"{path} already exists; a new secret would change every held-out split and "
            "training order (delete it yourself if that is what you want)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path
