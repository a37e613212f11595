"""What a batch ships to cluster workers, by hash: the spec, the reference solution, the data.

Nothing crosses the network as a path. The batch names every file by its sha256 and publishes
the bytes on the scheduler; a worker keeps what it received in a content-addressed store
(``$AUTOGRADER_CACHE/cluster``, else ``~/.cache/autograder/cluster``) and checks each copy it
holds by hash before using it, so a stale or damaged copy is fetched again, never used.

A data root travels as a manifest: relative path -> (sha256, size) as canonical JSON, itself
named by its sha256 ("the data hash"). A worker rebuilds the same folder from its store, from
its own data root (a file with the same hash is used as it is) or from the batch's copies, so
each file crosses the network at most once per worker machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.errors import AutograderError
from autograder.hashing import sha256_file

# A data root bigger than this is not published on the scheduler (which holds it in memory):
# put the data on the workers instead, where it is checked by hash.
MAX_DATA_BYTES = 1 << 30
_SHA256 = re.compile(r"[0-9a-f]{64}")

# sha256 -> the bytes, from wherever the batch published them (a worker's link to the batch)
Fetch = Callable[[str], bytes]


class ShippingError(AutograderError):
    """A shipped file is missing, damaged or not what its hash says; nothing is graded with it."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_name(sha256: str) -> str:
    """The scheduler-side name the bytes with this hash are published under."""
    return f"autograder-blob-{sha256}"


@dataclass(frozen=True)
class DataManifest:
    """Every file of a data root: relative POSIX path -> (sha256, size in bytes)."""

    files: dict[str, tuple[str, int]]

    def blob(self) -> bytes:
        """Canonical JSON: the same folder always gives the same bytes, hence the same hash."""
        listing = {path: [sha, size] for path, (sha, size) in sorted(self.files.items())}
        return json.dumps(listing, sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.blob())

    @property
    def size(self) -> int:
        return sum(size for _, size in self.files.values())

    @classmethod
    def of_folder(cls, root: Path, limit: int = MAX_DATA_BYTES) -> DataManifest:
        """Hash every regular file under ``root`` (hidden names skipped: editor and OS litter).

        Raises:
            ShippingError: the folder holds more than ``limit`` bytes.
        """
        files: dict[str, tuple[str, int]] = {}
        total = 0
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            size = path.stat().st_size
            total += size
            if total > limit:
                raise ShippingError(
                    f"the data root {root} holds more than {limit / 2**30:.0f} GiB: too much to "
                    "ship through the scheduler; put the same files on every worker "
                    "(AUTOGRADER_DATA there) and they are used after a hash check"
                )
            files[relative.as_posix()] = (sha256_file(path), size)
        return cls(files)

    @classmethod
    def parse(cls, blob: bytes) -> DataManifest:
        """Read a manifest a worker received; a malformed one raises ``ShippingError``."""
        try:
            listing = json.loads(blob)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ShippingError(f"unreadable data manifest ({exc})") from None
        files: dict[str, tuple[str, int]] = {}
        for path, entry in listing.items() if isinstance(listing, dict) else [(None, None)]:
            ok = (
                isinstance(path, str)
                and _safe_relative(path)
                and isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], str)
                and _SHA256.fullmatch(entry[0]) is not None
                and isinstance(entry[1], int)
            )
            if not ok:
                raise ShippingError(f"malformed data manifest entry {path!r}: {entry!r:.100}")
            files[path] = (entry[0], entry[1])
        return cls(files)


def _safe_relative(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def store_root() -> Path:
    """``$AUTOGRADER_CACHE/cluster``, else ``~/.cache/autograder/cluster``."""
    base = os.environ.get("AUTOGRADER_CACHE")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "autograder") / "cluster"


class Store:
    """A worker machine's copies, by hash: ``objects/<sha256>`` (read-only), and the folders
    built from them: ``courses/<key>/`` (spec + reference) and ``data/<data hash>/``.

    Every worker process on a machine shares it; each write goes to a temporary name first and
    is renamed into place, so a reader never sees half a file or half a folder.
    """

    def __init__(self, root: Path, fetch: Fetch) -> None:
        self.root = root
        self.fetch = fetch

    def _objects(self) -> Path:
        path = self.root / "objects"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _write_object(self, sha256: str, data: bytes) -> Path:
        target = self._objects() / sha256
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{sha256}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def object(self, sha256: str, what: str, own: Path | None = None) -> Path:
        """The verified local copy of the file with this hash: held, else ``own`` (a file this
        machine already has) if it matches, else fetched from the batch and checked."""
        target = self._objects() / sha256
        if target.is_file() and sha256_file(target) == sha256:
            return target
        if own is not None and own.is_file() and sha256_file(own) == sha256:
            return self._write_object(sha256, own.read_bytes())
        data = self.fetch(sha256)
        if sha256_bytes(data) != sha256:
            raise ShippingError(f"{what}: the copy received does not match its sha256 {sha256}")
        return self._write_object(sha256, data)

    def course(
        self, spec_id: str, spec_text: str, reference_module: str, reference_sha: str
    ) -> Path:
        """A course folder holding just this spec and its reference solution (by hash)."""
        reference = self.object(reference_sha, f"reference solution {reference_module}.py")
        key = sha256_bytes(f"{spec_id}\0{spec_text}\0{reference_module}\0{reference_sha}".encode())
        folder = self.root / "courses" / key

        def build(tmp: Path) -> None:
            (tmp / "assignments").mkdir()
            (tmp / "assignments" / f"{spec_id}.toml").write_text(spec_text, encoding="utf-8")
            (tmp / "reference_solutions").mkdir()
            _link(reference, tmp / "reference_solutions" / f"{reference_module}.py")

        def intact(path: Path) -> bool:
            spec = path / "assignments" / f"{spec_id}.toml"
            ref = path / "reference_solutions" / f"{reference_module}.py"
            return (
                spec.is_file()
                and spec.read_text(encoding="utf-8") == spec_text
                and ref.is_file()
                and sha256_file(ref) == reference_sha
            )

        return _settled(folder, build, intact)

    def data_root(self, data_sha: str, own_root: Path | None) -> Path:
        """A folder with exactly the files of the manifest named ``data_sha``, each checked."""
        manifest = DataManifest.parse(self.object(data_sha, "the data manifest").read_bytes())
        folder = self.root / "data" / data_sha

        def intact(path: Path) -> bool:
            return all(
                (path / rel).is_file() and sha256_file(path / rel) == sha
                for rel, (sha, _) in manifest.files.items()
            )

        def build(tmp: Path) -> None:
            for rel, (sha, _) in manifest.files.items():
                own = own_root / rel if own_root is not None else None
                source = self.object(sha, f"data file {rel}", own)
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                _link(source, tmp / rel)

        return _settled(folder, build, intact)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or one without hard links
        shutil.copyfile(source, target)


def _settled(folder: Path, build: Callable[[Path], None], intact: Callable[[Path], bool]) -> Path:
    """``folder`` if it is intact, else built afresh beside it and renamed into place."""
    if folder.is_dir() and intact(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        build(tmp)
        if folder.exists():  # damaged or stale: set aside, then removed
            stale = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.stale."))
            try:
                os.replace(folder, stale / "old")
            except OSError:
                pass  # another worker process moved it first
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another worker process built it at the same moment
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not intact(folder):
        raise ShippingError(f"{folder}: could not be built intact (is the cache writable?)")
    return folder
