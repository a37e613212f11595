"""Read a cats-vs-dogs ImageFolder from a tar archive or a folder, verify it, decode it.

Layout: ``[PREFIX/]{train,test}/{cat,dog}/NAME`` plus an optional ``SHA256SUMS`` beside
``train/``. Every image is checked against ``SHA256SUMS`` when present (missing, extra and
changed files are errors naming the file), then decoded with Pillow (always Pillow: JPEG
decoders may differ by 1 in a pixel, and torchvision's decoders are deprecated since 0.29) to
uint8 ``[3, 32, 32]`` RGB.
Files are read into memory, never extracted, so an archive cannot write anywhere.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from autograder.errors import DataError

SPLITS = ("train", "test")
CLASSES = ("cat", "dog")  # index = label: cat 0, dog 1
SUMS_NAME = "SHA256SUMS"
IMAGE_SIZE = (32, 32)  # width, height

Tree = dict[str, bytes]  # relative posix path -> file bytes


def _visible(parts: list[str]) -> bool:
    # Dot files are metadata (macOS ._x, .DS_Store), never images.
    return bool(parts) and not any(p.startswith(".") for p in parts)


def read_archive(archive: Path) -> Tree:
    """Regular files of a tar archive (any compression tarfile knows), relative to its prefix."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if not _visible(parts) or member.isdir():
                    continue
                if not member.isfile():
                    raise DataError(f"{archive}: member {member.name} is not a regular file")
                handle = tar.extractfile(member)
                assert handle is not None  # isfile() members always have data
                files["/".join(parts)] = handle.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{archive}: corrupt or truncated archive ({exc})") from exc
    return _strip_prefix(files, archive)


def read_folder(folder: Path) -> Tree:
    """``SHA256SUMS`` and every file under ``train/`` and ``test/`` of an extracted folder."""
    files: dict[str, bytes] = {}
    sums = folder / SUMS_NAME
    if sums.is_file():
        files[SUMS_NAME] = sums.read_bytes()
        for name in _parse_sums(files[SUMS_NAME], str(folder)):
            listed = folder / name
            if name.split("/")[0] not in SPLITS and listed.is_file():
                files[name] = listed.read_bytes()
    for split in SPLITS:
        for path in sorted((folder / split).rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and _visible(rel.split("/")):
                files[rel] = path.read_bytes()
    return files


def _strip_prefix(files: Tree, archive: Path) -> Tree:
    """Drop the top folder(s) above ``train/``/``test/`` so paths read ``train/cat/0000.jpg``."""
    prefixes = set()
    for name in files:
        parts = name.split("/")
        for i in range(len(parts) - 2):
            if parts[i] in SPLITS and parts[i + 1] in CLASSES:
                prefixes.add("/".join(parts[:i]))
                break
    if not prefixes:
        raise DataError(f"{archive}: no train/cat, train/dog, test/cat or test/dog folder inside")
    if len(prefixes) > 1:
        raise DataError(f"{archive}: images under several top folders: {sorted(prefixes)}")
    prefix = prefixes.pop()
    cut = len(prefix) + 1 if prefix else 0
    return {n[cut:]: b for n, b in files.items() if not prefix or n.startswith(prefix + "/")}


def _parse_sums(text: bytes, where: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    for lineno, line in enumerate(text.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        name = name.lstrip(" *")
        if not sep or len(digest) != 64 or not name:
            raise DataError(f"{where}/{SUMS_NAME}, line {lineno}: expected 'SHA256  PATH'")
        sums[name] = digest.lower()
    return sums


def image_hashes(files: Tree, where: str) -> dict[str, str]:
    """sha256 of every image, checked against SHA256SUMS when present.

    Raises:
        DataError: naming the file: an unexpected folder, a missing, extra or changed image.
    """
    images: dict[str, str] = {}
    for name, blob in files.items():
        parts = name.split("/")
        if parts[0] not in SPLITS:
            continue
        if len(parts) != 3 or parts[1] not in CLASSES:
            raise DataError(f"{where}/{name}: expected {{train,test}}/{{cat,dog}}/FILE")
        images[name] = hashlib.sha256(blob).hexdigest()
    for split in SPLITS:
        for cls in CLASSES:
            if not any(n.startswith(f"{split}/{cls}/") for n in images):
                raise DataError(f"{where}: no images in {split}/{cls}/")
    if SUMS_NAME in files:
        sums = _parse_sums(files[SUMS_NAME], where)
        for name, digest in sorted(sums.items()):
            if name not in files:
                raise DataError(f"{where}/{name}: listed in {SUMS_NAME} but missing")
            actual = images.get(name) or hashlib.sha256(files[name]).hexdigest()
            if actual != digest:
                raise DataError(f"{where}/{name}: sha256 {actual} does not match {SUMS_NAME}")
        for name in sorted(images):
            if name not in sums:
                raise DataError(f"{where}/{name}: extra image, not listed in {SUMS_NAME}")
    return images


def listing_sha256(hashes: dict[str, str]) -> str:
    """One hash over ``SHA256  PATH`` lines sorted by path: a folder's identity."""
    text = "".join(f"{hashes[name]}  {name}\n" for name in sorted(hashes))
    return hashlib.sha256(text.encode()).hexdigest()


def decode(files: Tree, where: str) -> dict[str, torch.Tensor]:
    """Decode every image into ``{split}_images`` uint8 [N,3,32,32] and ``{split}_labels`` int64.

    Order: cats then dogs, each sorted by path, so the same files always give the same tensors.
    """
    out: dict[str, torch.Tensor] = {}
    for split in SPLITS:
        images, labels = [], []
        for label, cls in enumerate(CLASSES):
            prefix = f"{split}/{cls}/"
            for name in sorted(n for n in files if n.startswith(prefix)):
                images.append(decode_one(files[name], f"{where}/{name}"))
                labels.append(label)
        # One HWC -> CHW transpose for the whole split, not one per image.
        out[f"{split}_images"] = torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).copy())
        out[f"{split}_labels"] = torch.tensor(labels, dtype=torch.int64)
    return out


def decode_one(blob: bytes, where: str) -> np.ndarray:
    """One image file -> uint8 [32, 32, 3] RGB; DataError naming the file otherwise."""
    if not blob:
        raise DataError(f"{where}: empty file")
    try:
        with Image.open(io.BytesIO(blob)) as image:
            if image.size != IMAGE_SIZE:
                raise DataError(
                    f"{where}: image is {image.size[0]}x{image.size[1]}, expected 32x32"
                )
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(f"{where}: cannot decode image ({exc})") from exc
    return pixels
