"""The cat-vs-dog benchmark dataset: find it, verify it, decode it once, serve it from the cache.

Search order (``data_locations`` lists it): the ``--data``/``AUTOGRADER_DATA`` root (archive,
extracted folder, CIFAR-10 python files), then the dataset last imported into the cache, then,
only when neither option nor variable is set, ``../shared/data`` from the current directory.
Nothing is downloaded unless the caller opts in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch

from autograder.data import cache, cifar_python, imagefolder
from autograder.data.dataset import DataContext, Dataset, Splits
from autograder.data.locations import (
    CACHE_ENV,
    SourceKind,
    candidates,
    default_cache_dir,
    explicit_root,
    fallback_root,
    first_present,
    fix_hint,
    missing_message,
)
from autograder.errors import DataError
from autograder.hashing import sha256_file

KNOWN_ARCHIVE_SHA256 = "812be7a5d0e9456a553c39bbf671640e3d099ff758af0c8b0919f95c05e901d7"
FALLBACK_LABEL = "last resort ../shared/data"


@dataclass(frozen=True, eq=False)  # eq=False: tensors have no single truth value
class CatDog:
    """CIFAR-10 cats (label 0) and dogs (label 1), decoded."""

    train_images: torch.Tensor  # uint8 [N_train, 3, 32, 32]
    train_labels: torch.Tensor  # int64 [N_train], 0 = cat, 1 = dog
    test_images: torch.Tensor  # uint8 [N_test, 3, 32, 32]
    test_labels: torch.Tensor  # int64 [N_test]
    source: str  # human description of where it came from
    source_sha256: str  # the cache key


def _prepare(kind: SourceKind, path: Path) -> tuple[str, str, Callable[[], dict]]:
    """(cache key, description, decoder) for a source; hashing only, no decoding yet."""
    if kind == "archive":
        key = sha256_file(path)
        known = (
            "known CIFAR-10 cat/dog archive" if key == KNOWN_ARCHIVE_SHA256 else "unknown archive"
        )
        return key, f"archive {path} ({known})", lambda: _decode_archive(path)
    if kind == "folder":
        files = imagefolder.read_folder(path)
        key = imagefolder.listing_sha256(imagefolder.image_hashes(files, str(path)))
        return key, f"folder {path}", lambda: imagefolder.decode(files, str(path))
    key = cifar_python.cifar_sha256(path)
    return key, f"CIFAR-10 python files {path}", lambda: cifar_python.read_cifar(path)


def _decode_archive(path: Path) -> dict:
    files = imagefolder.read_archive(path)
    imagefolder.image_hashes(files, str(path))
    return imagefolder.decode(files, str(path))


def _catdog(tensors: dict, source: str, key: str) -> CatDog:
    return CatDog(**{name: tensors[name] for name in cache.NAMES}, source=source, source_sha256=key)


def _load_source(kind: SourceKind, path: Path, cache_dir: Path) -> CatDog:
    """The source's tensors from the cache, decoding and caching them first if needed."""
    key, description, build = _prepare(kind, path)
    target = cache.cache_path(cache_dir, key)
    try:
        found = cache.read_cache(target, key)
    except cache.CorruptCache:
        found = None  # rebuilt below and replaced atomically
    if found is None:
        tensors = build()
        try:
            cache.write_cache(target, tensors, key, description)
        except OSError as exc:
            raise DataError(
                f"{target}: cannot write the data cache ({exc}); "
                f"set {CACHE_ENV}=DIR or pass --cache-dir DIR"
            ) from exc
    else:
        tensors = found[0]
    return _catdog(tensors, f"{description}, cached in {target}", key)


def _load_current(cache_dir: Path) -> CatDog | None:
    """The dataset last imported into ``cache_dir``, rebuilt from its source if damaged."""
    recorded = cache.current(cache_dir)
    if recorded is None or not recorded[0].exists():
        return None
    target, kind, source = recorded
    key = target.stem.removeprefix("catdog-")
    try:
        found = cache.read_cache(target, key)
    except cache.CorruptCache as exc:
        if not source.exists():
            raise DataError(
                f"{target}: cache file is corrupt ({exc}) and its source {source} is gone; "
                "re-run 'autograder data import ARCHIVE'"
            ) from exc
        return _import(cast(SourceKind, kind), source, cache_dir)
    if found is None:  # deleted since the check above
        return None
    return _catdog(found[0], f"{found[1]}, cached in {target}", key)


def _import(kind: SourceKind, path: Path, cache_dir: Path) -> CatDog:
    data = _load_source(kind, path, cache_dir)
    cache.set_current(cache_dir, data.source_sha256, kind, path.resolve())
    return data


def load_catdog(
    data_root: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    download: bool = False,
) -> CatDog:
    """Load the cat-vs-dog dataset, decoding it only the first time.

    Args:
        data_root: the ``--data`` value; overrides ``AUTOGRADER_DATA``.
        cache_dir: overrides ``AUTOGRADER_CACHE`` and ``~/.cache/autograder/data``.
        download: if no data is found, download the official CIFAR-10 into the cache (opt-in).

    Raises:
        DataError: no data anywhere (the message lists every place looked at and the fix), or
            the data found is corrupt (the message names the file).
    """
    cache_root = default_cache_dir(cache_dir)
    named = explicit_root(data_root)
    if named is not None:
        if not named[1].exists():
            raise DataError(f"{named[0]} {named[1]}: no such file or folder; {fix_hint()}")
        found = first_present(candidates(named[1], named[0]))
        if found is not None:
            return _load_source(found.kind, found.path, cache_root)
    imported = _load_current(cache_root)
    if imported is not None:
        return imported
    if named is None and fallback_root().is_dir():
        found = first_present(candidates(fallback_root(), FALLBACK_LABEL))
        if found is not None:
            return _load_source(found.kind, found.path, cache_root)
    if download:
        batches = cifar_python.download_cifar10(cache_root / "cifar10")
        return _import("cifar", batches, cache_root)
    raise DataError(missing_message(data_locations(data_root, cache_dir=cache_root)))


def import_archive(archive: Path, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """Verify and decode an archive, extracted folder or ``cifar-10-batches-py`` into the cache.

    The result becomes the dataset ``load_catdog`` uses when no data root is set.

    Returns:
        The cache file.

    Raises:
        DataError: the path is missing, not a recognised source, or corrupt (naming the file).
    """
    path = Path(archive).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    found = first_present(candidates(path, "import"))
    if found is None:
        raise DataError(
            f"{path}: not a cat-vs-dog archive, an extracted folder with train/ and test/, "
            "or a cifar-10-batches-py folder"
        )
    cache_root = default_cache_dir(cache_dir)
    data = _import(found.kind, found.path, cache_root)
    return cache.cache_path(cache_root, data.source_sha256)


def data_locations(
    option: str | os.PathLike | None = None, *, cache_dir: str | os.PathLike | None = None
) -> list[tuple[str, Path, bool]]:
    """Every place ``load_catdog`` looks, in order.

    Returns:
        ``(what, path, found)`` triples; ``what`` reads ``"SETTING: KIND"`` (``"--data: archive"``,
        ``"cache: last imported"``) and ``found`` says whether a source of that kind is there.
    """
    out: list[tuple[str, Path, bool]] = []
    named = explicit_root(option)
    if named is not None:
        out.append((f"{named[0]}: root", named[1], named[1].exists()))
        out += [(c.what, c.path, c.present) for c in candidates(named[1], named[0])]
    cache_root = default_cache_dir(cache_dir)
    recorded = cache.current(cache_root)
    pointer = recorded[0] if recorded else cache_root / cache.POINTER
    out.append(("cache: last imported", pointer, recorded is not None and pointer.exists()))
    if named is None:
        fallback = fallback_root()
        out.append((f"{FALLBACK_LABEL}: root", fallback, fallback.is_dir()))
        out += [(c.what, c.path, c.present) for c in candidates(fallback, FALLBACK_LABEL)]
    return out


# Per-channel statistics of the CIFAR-10 cat/dog training images (0-1 scale): fixed constants,
# so the recipe normalises identically whatever subset is used.
MEAN = (0.4925, 0.4545, 0.4145)
STD = (0.2482, 0.2432, 0.2442)


def _splits(ctx: DataContext) -> Splits:
    data = load_catdog(ctx.root, cache_dir=ctx.cache_dir)
    return Splits(
        train={"images": data.train_images, "labels": data.train_labels},
        # CIFAR-10's official test images: their labels are public, but the images never
        # enter the sandbox (the grader predicts from the trained state)
        held_out={"images": data.test_images, "labels": data.test_labels},
        sha256=data.source_sha256,
        source=data.source,
        info={
            "classes": ["cat", "dog"],
            "train": int(data.train_labels.numel()),
            "held_out": int(data.test_labels.numel()),
            "mean": list(MEAN),
            "std": list(STD),
        },
    )


DATASET = Dataset(
    name="catdog",
    title="CIFAR-10 cats vs dogs (32x32 RGB; 10,000 train, 2,000 test)",
    load=_splits,
    citation=(
        'A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", '
        "University of Toronto, 2009"
    ),
    provided_by="catdog/catdog_cifar10_jpeg.tar.gz under the data root, or "
    "'autograder data import' / 'autograder data download --yes'",
)
