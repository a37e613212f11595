"""Cats and dogs from torchvision's official CIFAR-10 python files (``cifar-10-batches-py``).

CIFAR-10 class 3 (cat) becomes label 0 and class 5 (dog) label 1; cats come first, then dogs,
each in the files' order. Pixels are the exact official arrays (no JPEG step).

SECURITY: torchvision's ``CIFAR10`` reads these files with ``pickle``. That is acceptable here
only because they are staff-provided data (the official release, md5-checked by torchvision)
read on the trusted side. Never point this reader at anything a student supplied.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10

from autograder.errors import DataError
from autograder.hashing import sha256_file

CIFAR_CLASSES = {3: 0, 5: 1}  # CIFAR-10 class index -> our label (cat 0, dog 1)
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def _file_names() -> list[str]:
    names = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list]
    return names + [CIFAR10.meta["filename"]]


def cifar_sha256(batches: Path) -> str:
    """One hash over the batch files' sha256s: the folder's identity and cache key."""
    lines = []
    for name in _file_names():
        path = batches / name
        if not path.is_file():
            raise DataError(f"{path}: missing CIFAR-10 file")
        lines.append(f"{sha256_file(path)}  {name}\n")
    return hashlib.sha256(("cifar-10-batches-py\n" + "".join(lines)).encode()).hexdigest()


def _split(batches: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        # Staff-provided official files on the trusted side; see the module docstring.
        dataset = CIFAR10(root=str(batches.parent), train=train, download=False)
    except (RuntimeError, OSError, ValueError, KeyError, EOFError) as exc:
        raise DataError(f"{batches}: CIFAR-10 python files missing or corrupt ({exc})") from exc
    if len(dataset.classes) != 10 or [dataset.classes[i] for i in CIFAR_CLASSES] != ["cat", "dog"]:
        raise DataError(f"{batches}: batches.meta does not name classes 3 and 5 cat and dog")
    targets = np.asarray(dataset.targets)
    order = np.concatenate([np.flatnonzero(targets == cls) for cls in CIFAR_CLASSES])
    images = torch.from_numpy(np.ascontiguousarray(dataset.data[order].transpose(0, 3, 1, 2)))
    labels = torch.tensor([CIFAR_CLASSES[int(t)] for t in targets[order]], dtype=torch.int64)
    return images.to(torch.uint8), labels


def read_cifar(batches: Path) -> dict[str, torch.Tensor]:
    """``{train,test}_{images,labels}`` for the cat and dog classes of a ``cifar-10-batches-py``."""
    if batches.name != "cifar-10-batches-py":
        raise DataError(f"{batches}: the CIFAR-10 python folder must be named cifar-10-batches-py")
    out: dict[str, torch.Tensor] = {}
    for split, train in (("train", True), ("test", False)):
        out[f"{split}_images"], out[f"{split}_labels"] = _split(batches, train)
    return out


def download_cifar10(dest: Path) -> Path:
    """Download and md5-check the official CIFAR-10 python files into ``dest`` (opt-in only).

    Returns:
        ``dest / "cifar-10-batches-py"``.

    Raises:
        DataError: the download or its check failed.
    """
    dest.mkdir(parents=True, exist_ok=True)
    try:
        CIFAR10(root=str(dest), train=True, download=True)
    except Exception as exc:  # network, disk or checksum: all mean "no data", told as one line
        raise DataError(f"downloading CIFAR-10 from {CIFAR_URL} into {dest} failed: {exc}") from exc
    return dest / "cifar-10-batches-py"
