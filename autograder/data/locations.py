"""Where the cat-vs-dog data is looked for, in a fixed, printable order.

One setting names the data root: the ``--data`` option, else the ``AUTOGRADER_DATA`` environment
variable. A root holds ``catdog/...`` exactly as the course's shared data folder does, or is itself
an archive, an extracted ImageFolder or a ``cifar-10-batches-py`` folder. After the root comes the
cache (the dataset last imported), and only when neither option nor variable is set,
``../shared/data`` from the current directory as a last resort.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DATA_ENV = "AUTOGRADER_DATA"
CACHE_ENV = "AUTOGRADER_CACHE"
ARCHIVE_NAME = "catdog_cifar10_jpeg.tar.gz"
FOLDER_NAME = "catdog_cifar10_jpeg"
CIFAR_FOLDER = "cifar-10-batches-py"

SourceKind = Literal["archive", "folder", "cifar"]


@dataclass(frozen=True)
class Candidate:
    """One place a source may be: ``present`` says whether a source of ``kind`` is there."""

    what: str
    kind: SourceKind
    path: Path

    @property
    def present(self) -> bool:
        return source_present(self.kind, self.path)


def source_present(kind: SourceKind, path: Path) -> bool:
    """Whether ``path`` looks like a source of ``kind`` (cheap: no reading of contents)."""
    if kind == "archive":
        return path.is_file()
    if kind == "folder":
        return (path / "train").is_dir() and (path / "test").is_dir()
    return (path / "data_batch_1").is_file() and (path / "test_batch").is_file()


def explicit_root(option: str | os.PathLike | None = None) -> tuple[str, Path] | None:
    """The root named by ``--data`` (wins) or ``AUTOGRADER_DATA``, with which one named it."""
    if option is not None and str(option) != "":
        return "--data", Path(option).expanduser()
    env = os.environ.get(DATA_ENV, "")
    if env:
        return DATA_ENV, Path(env).expanduser()
    return None


def fallback_root() -> Path:
    """``../shared/data`` from the current directory: where this repository's data sits."""
    return (Path.cwd() / ".." / "shared" / "data").resolve()


def resolve_data_root(option: str | os.PathLike | None = None) -> Path | None:
    """The data root a load would search.

    Args:
        option: the ``--data`` value; overrides ``AUTOGRADER_DATA``.

    Returns:
        The option's or the variable's path (whether or not it exists), else ``../shared/data``
        from the current directory if that exists (searched last, after the cache), else None.
    """
    named = explicit_root(option)
    if named is not None:
        return named[1]
    fallback = fallback_root()
    return fallback if fallback.is_dir() else None


def default_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else ``AUTOGRADER_CACHE``, else ``~/.cache/autograder/data``."""
    if cache_dir is not None and str(cache_dir) != "":
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV, "")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "autograder" / "data"


def candidates(root: Path, label: str) -> list[Candidate]:
    """Every source a root may hold, in search order: archives, extracted folders, CIFAR-10 files."""
    if root.is_file():
        return [Candidate(f"{label}: archive", "archive", root)]
    return [
        Candidate(f"{label}: archive", "archive", root / "catdog" / ARCHIVE_NAME),
        Candidate(f"{label}: archive", "archive", root / ARCHIVE_NAME),
        Candidate(f"{label}: extracted folder", "folder", root / "catdog" / FOLDER_NAME),
        Candidate(f"{label}: extracted folder", "folder", root / FOLDER_NAME),
        Candidate(f"{label}: extracted folder", "folder", root),
        Candidate(f"{label}: CIFAR-10 python files", "cifar", root / CIFAR_FOLDER),
        Candidate(f"{label}: CIFAR-10 python files", "cifar", root / "cifar10" / CIFAR_FOLDER),
        Candidate(f"{label}: CIFAR-10 python files", "cifar", root),
    ]


def first_present(found: list[Candidate]) -> Candidate | None:
    return next((c for c in found if c.present), None)


def fix_hint() -> str:
    return (
        f"fix: pass --data DIR, or set {DATA_ENV}=DIR (a folder holding catdog/{ARCHIVE_NAME}, "
        f"an extracted {FOLDER_NAME}/ or {CIFAR_FOLDER}/), or run "
        "'autograder data import ARCHIVE', or opt in to 'autograder data download --yes'"
    )


def missing_message(looked_at: list[tuple[str, Path, bool]]) -> str:
    """The one error a user sees when no data is found: every place looked at, then the fix."""
    lines = ["no cat-vs-dog data found; looked at:"]
    lines += [f"  - {what}: {path}" for what, path, _ in looked_at]
    lines.append(fix_hint())
    return "\n".join(lines)
