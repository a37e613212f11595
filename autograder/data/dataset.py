"""What a dataset is to the grader: a loader that returns its training split (for the sandbox)
and its held-out part (for the trusted side only), and where a loader finds its files."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from autograder.data.locations import explicit_root, fallback_root
from autograder.errors import DataError


@dataclass(frozen=True)
class DataContext:
    """What a loader may use: where the user's data is, the cache, and the split seed."""

    root: str | None  # the ``--data`` option as given (None: AUTOGRADER_DATA, then the defaults)
    split_seed: int  # from the course secret and the dataset's name: which examples are held out
    cache_dir: Path | None = None


@dataclass(frozen=True, eq=False)  # eq=False: tensors have no single truth value
class Splits:
    """One dataset, split. ``train`` enters the sandbox; ``held_out`` never does."""

    train: dict[str, torch.Tensor]
    held_out: dict[str, torch.Tensor]
    # Identifies the content and the split (keys reference caches): change either, change this.
    sha256: str
    source: str  # where it came from, for messages
    info: dict[str, Any] = field(default_factory=dict)  # JSON: sizes, classes, normalisation


@dataclass(frozen=True)
class Dataset:
    """A registered dataset: ``load`` raises ``DataError`` with the fix when it is missing."""

    name: str
    title: str
    load: Callable[[DataContext], Splits]
    citation: str
    # How a user gets it when it is missing (an optional extra, a folder under the data root).
    provided_by: str = ""


def split_sha256(content_sha256: str, split_seed: int) -> str:
    """The hash that names a dataset's content *and* its seeded split (for cache keys)."""
    return hashlib.sha256(f"{content_sha256}/{split_seed}".encode()).hexdigest()


def data_file(ctx: DataContext, relative: str, what: str) -> Path:
    """``relative`` (e.g. ``text/movie_snippets_sentiment.tsv``) under the data root.

    Looks under ``--data``, else ``AUTOGRADER_DATA``, else ``../shared/data`` from the current
    folder, like the cat-vs-dog data. Raises ``DataError`` naming every place looked at.
    """
    looked: list[Path] = []
    named = explicit_root(ctx.root)
    roots = [named[1]] if named is not None else [fallback_root()]
    for root in roots:
        path = root / relative
        looked.append(path)
        if path.is_file():
            return path
    setting = named[0] if named is not None else "the default ../shared/data"
    raise DataError(
        f"{what} not found: looked for {', '.join(map(str, looked))} ({setting}); pass "
        f"--data DIR or set AUTOGRADER_DATA to a folder holding {relative}"
    )


def package_data_file(package: str, relative: tuple[str, ...], install: str) -> Path:
    """``relative`` inside the installed ``package`` (an import name), located by ``find_spec``
    so the package's ``__init__`` (and its dependencies) never run; ``DataError`` ending in
    ``install`` (how to get it) when the package or the file is not there."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"{package} is not installed; {install}")
    for folder in spec.submodule_search_locations:
        path = Path(folder).joinpath(*relative)
        if path.is_file():
            return path
    raise DataError(
        f"{package} is installed but has no {'/'.join(relative)} "
        f"(looked in {', '.join(spec.submodule_search_locations)}); {install}"
    )
