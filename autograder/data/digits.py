"""scikit-learn's 8x8 handwritten digits (Homework 4's VAE and GAN benchmarks).

1,797 grey-level images of the digits 0-9, 8x8 pixels with 17 levels (0-16), about 180 per
class: the UCI "Optical Recognition of Handwritten Digits" test set as scikit-learn ships it in
its wheel (``sklearn/datasets/data/digits.csv.gz``, read by ``sklearn.datasets.load_digits``).
The file is read where the installed package keeps it, without importing scikit-learn (which
would cost a second per grader): one CSV row per image, 64 pixels then the label.

There is no official split. A third of each class (599 images in all) is held out, chosen with
the split seed the engine derives from the course secret; the rest (1,198) is the training split
the sandbox receives. Images are uint8 [N, 1, 8, 8] in 0..16, labels int64 [N].
"""

from __future__ import annotations

import gzip
import hashlib
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
from autograder.errors import DataError

PACKAGE_FILE = ("datasets", "data", "digits.csv.gz")
# digits.csv.gz as scikit-learn 1.9.1 ships it; another file is used if it parses, and named
# "an unknown version" in the source line (its hash keys the reference cache either way)
KNOWN_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
IMAGES, CLASSES, SIDE, LEVELS = 1797, 10, 8, 16
HELD_OUT_FRACTION = 1 / 3
INSTALL = "install the hw4 extra: pip install 'autograder[hw4]' (scikit-learn ships the digits)"


def package_file() -> Path:
    """Where the installed scikit-learn keeps ``digits.csv.gz``; ``DataError`` if it is not."""
    return package_data_file("sklearn", PACKAGE_FILE, INSTALL)


def read_digits(path: Path) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(images uint8 [1797, 1, 8, 8] in 0..16, labels int64 [1797], sha256 of the file).

    Raises ``DataError`` naming the file when it is not the digits CSV.
    """
    try:
        raw = path.read_bytes()
        text = gzip.decompress(raw).decode("ascii")
        table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, UnicodeDecodeError, ValueError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: not a readable digits CSV ({exc}); {INSTALL}") from exc
    if table.shape != (IMAGES, SIDE * SIDE + 1):
        raise DataError(f"{path}: {table.shape} values, expected ({IMAGES}, {SIDE * SIDE + 1})")
    pixels, labels = table[:, :-1], table[:, -1]
    if (
        not np.array_equal(table, np.round(table))
        or pixels.min() < 0
        or pixels.max() > LEVELS
        or set(np.unique(labels).tolist()) != set(range(CLASSES))
    ):
        raise DataError(f"{path}: pixels must be integers in 0..16 and labels 0..9")
    images = torch.from_numpy(pixels.astype(np.uint8)).reshape(-1, 1, SIDE, SIDE)
    return images, torch.from_numpy(labels.astype(np.int64)), hashlib.sha256(raw).hexdigest()


def held_out_index(labels: torch.Tensor, split_seed: int) -> torch.Tensor:
    """Sorted indices of the held-out images: a third of each class (rounded), drawn with
    ``split_seed``, so every class is represented in proportion."""
    g = torch.Generator().manual_seed(split_seed)
    chosen = []
    for c in range(CLASSES):
        members = torch.nonzero(labels == c).flatten()
        take = round(members.numel() * HELD_OUT_FRACTION)
        chosen.append(members[torch.randperm(members.numel(), generator=g)[:take]])
    return torch.cat(chosen).sort().values


def _splits(ctx: DataContext) -> Splits:
    path = package_file()
    images, labels, sha = read_digits(path)
    held = held_out_index(labels, ctx.split_seed)
    train = torch.ones(labels.numel(), dtype=torch.bool)
    train[held] = False
    known = "the known scikit-learn file" if sha == KNOWN_SHA256 else "an unknown version"
    return Splits(
        train={"images": images[train], "labels": labels[train]},
        held_out={"images": images[held], "labels": labels[held]},
        sha256=split_sha256(sha, ctx.split_seed),
        source=f"{path} ({known})",
        info={
            "classes": [str(c) for c in range(CLASSES)],
            "train": int(train.sum()),
            "held_out": int(held.numel()),
            "shape": [1, SIDE, SIDE],
            # pixel values are 0..levels; transforms divide by it (wire/transforms.py)
            "levels": LEVELS,
        },
    )


DATASET = Dataset(
    name="digits",
    title="8x8 handwritten digits (scikit-learn; 1,198 train, 599 held out by the course secret)",
    load=_splits,
    citation=(
        'E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine '
        "Learning Repository, 1998 (its test set, as scikit-learn ships it)"
    ),
    provided_by="the hw4 extra: pip install 'autograder[hw4]' (scikit-learn)",
)
