"""The dataset registry: every dataset a trained-model check can name, and how it splits.

A dataset is loaded on the trusted side into two parts: ``train``, the tensors the sandboxed
worker receives to train on, and ``held_out``, the inputs and truth that only the trusted side
ever holds (predictions and metrics are computed there). Where a dataset has no official split,
its loader draws the held-out part with ``DataContext.split_seed``, which the engine derives from
the course secret, so a student cannot know which examples are held out.

To add a dataset: write a module under ``autograder/data/`` with a ``DATASET = Dataset(...)``
(``data/dataset.py``) whose ``load`` returns ``Splits``, and list it in ``_ENTRIES`` below.
"""

from __future__ import annotations

import os

from autograder.data import (
    bible,
    catdog,
    digits,
    m2nist,
    mnist_ssl,
    movielens,
    sentiment,
    wnut16,
)
from autograder.data.dataset import DataContext, Dataset, Splits
from autograder.errors import DataError

_ENTRIES: tuple[Dataset, ...] = (
    catdog.DATASET,
    digits.DATASET,
    m2nist.DATASET,
    mnist_ssl.DATASET,
    sentiment.DATASET,
    wnut16.DATASET,
    bible.DATASET,
    movielens.DATASET,
)

DATASETS: dict[str, Dataset] = {d.name: d for d in _ENTRIES}


def datasets() -> dict[str, Dataset]:
    """Every registered dataset by name."""
    return DATASETS


def dataset(name: str) -> Dataset:
    """The dataset called ``name``; ``DataError`` listing the known ones otherwise."""
    found = datasets().get(name)
    if found is None:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(sorted(datasets()))})")
    return found


def load(name: str, root: str | os.PathLike | None, split_seed: int) -> Splits:
    """Load and split the dataset ``name`` (see ``DataContext``)."""
    ctx = DataContext(None if root is None else str(root), split_seed)
    return dataset(name).load(ctx)
