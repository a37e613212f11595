"""Decoded datasets cached as safetensors files keyed by their source's sha256.

``catdog-<key>.safetensors`` holds ``{train,test}_{images,labels}``; its metadata records the
source and a sha256 over the tensors' names, dtypes, shapes and bytes, so a damaged file is
detected (``CorruptCache``) and rebuilt rather than trusted. Files are written to a temporary
name and ``os.replace``-d, so a reader never sees half a file. ``catdog-current`` names the key
last imported explicitly (``autograder data import`` / ``download``).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

FORMAT = "autograder-catdog-1"
POINTER = "catdog-current"
NAMES = ("train_images", "train_labels", "test_images", "test_labels")


class CorruptCache(Exception):
    """A cache file exists but cannot be trusted; callers rebuild it or tell the user."""


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    key: str
    size: int
    source: str  # from metadata, or why the file is unusable
    ok: bool


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"catdog-{key}.safetensors"


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in NAMES:
        t = tensors[name].contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        digest.update(t.numpy())  # C-contiguous, so hashlib reads the buffer in place
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; a shared cache must be readable
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_cache(path: Path, tensors: dict[str, torch.Tensor], key: str, source: str) -> None:
    """Write the four tensors with their digest, key and source description, atomically."""
    tensors = {name: tensors[name].contiguous() for name in NAMES}
    meta = {"format": FORMAT, "key": key, "source": source, "sha256": tensors_sha256(tensors)}
    _atomic_write(path, st_save(tensors, metadata=meta))


def _metadata(data: bytes) -> dict[str, str]:
    # safetensors layout: u64 little-endian header length, then a JSON header.
    if len(data) < 8:
        raise CorruptCache("shorter than a safetensors header")
    (length,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + length])
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptCache(f"unreadable header ({exc})") from exc
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CorruptCache("not an autograder cat-vs-dog cache file")
    return meta


def read_cache(path: Path, key: str | None = None) -> tuple[dict[str, torch.Tensor], str] | None:
    """The tensors and source description in ``path``; None if there is no such file.

    Raises:
        CorruptCache: unreadable, for another key, wrong shapes or dtypes, or digest mismatch.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise CorruptCache(f"unreadable ({exc})") from exc
    meta = _metadata(data)
    if key is not None and meta.get("key") != key:
        raise CorruptCache(f"made for key {meta.get('key')}, not {key}")
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise CorruptCache(f"unreadable tensors ({exc})") from exc
    if set(tensors) != set(NAMES):
        raise CorruptCache(f"holds {sorted(tensors)}, expected {sorted(NAMES)}")
    for split in ("train", "test"):
        images, labels = tensors[f"{split}_images"], tensors[f"{split}_labels"]
        if (
            images.dtype != torch.uint8
            or images.dim() != 4
            or tuple(images.shape[1:]) != (3, 32, 32)
        ):
            raise CorruptCache(f"{split}_images is {images.dtype} {tuple(images.shape)}")
        if labels.dtype != torch.int64 or tuple(labels.shape) != (images.shape[0],):
            raise CorruptCache(f"{split}_labels is {labels.dtype} {tuple(labels.shape)}")
    if tensors_sha256(tensors) != meta.get("sha256"):
        raise CorruptCache("tensor bytes do not match the recorded sha256")
    return tensors, str(meta.get("source", ""))


def set_current(cache_dir: Path, key: str, kind: str, source: Path) -> None:
    """Record ``key`` as the imported dataset, with its source so a damaged file can be rebuilt."""
    record = {"key": key, "kind": kind, "source": str(source)}
    _atomic_write(cache_dir / POINTER, json.dumps(record).encode())


def current(cache_dir: Path) -> tuple[Path, str, Path] | None:
    """(cache file, source kind, source path) last imported, if recorded; the file may be gone."""
    try:
        record = json.loads((cache_dir / POINTER).read_bytes())
        key, kind, source = str(record["key"]), str(record["kind"]), Path(record["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no pointer, or a damaged one: as if nothing was imported
    if (
        len(key) != 64
        or set(key) - set("0123456789abcdef")
        or kind not in ("archive", "folder", "cifar")
    ):
        return None
    return cache_path(cache_dir, key), kind, source


def cache_entries(cache_dir: Path) -> list[CacheEntry]:
    """Every cache file in ``cache_dir``, fully checked (reads each file once)."""
    entries = []
    for path in sorted(cache_dir.glob("catdog-*.safetensors")):
        key = path.stem.removeprefix("catdog-")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        try:
            found = read_cache(path, key)
            source, ok = (found[1], True) if found else ("vanished", False)
        except CorruptCache as exc:
            source, ok = f"corrupt: {exc}", False
        entries.append(CacheEntry(path, key, size, source, ok))
    return entries
