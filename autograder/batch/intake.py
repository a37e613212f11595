"""Find the submissions in a folder a TA was given, and report what cannot be trusted.

Accepted layouts (``hw1.py`` stands for the assignment's ``student_file``):

- ``DIR/<student_id>/hw1.py``: one folder per student; ``hw1.py`` may sit deeper inside
  (LMS exports nest it), but exactly one file of that name must exist in the folder. A folder
  with no ``hw1.py`` but exactly one zip is read as that student's zip.
- ``DIR/<student_id>.py``: one file per student, the id is the file name without ``.py``.
- ``DIR/<student_id>.zip``: one zip per student with exactly one ``hw1.py`` anywhere inside.
- ``DIR/hw1/<student_id>/<timestamp>/{hw1.py,manifest.json}`` as written by
  ``autograder submit`` (also accepted when ``DIR`` is that ``hw1`` folder itself): each
  timestamp folder is one attempt.

Student ids are the folder or file names, used as they are: non-empty, at most 128 characters,
valid UTF-8, no control characters, none of ``/ \\ : * ? " < > |``, not starting with ``.``,
no space at either end. Anything ambiguous becomes a :class:`Problem` instead of a guess: two
candidate files for one student, a zip with no or several ``hw1.py``, a file over the size limit
(refused from its size, never read whole), a zip member that inflates past it, a name that is
not UTF-8, a symlink leading outside ``DIR``, an invalid id. OS clutter (``.DS_Store``,
``__MACOSX``, ``._*``, ``Thumbs.db``), attempts ``autograder submit`` is still writing
(``.tmp-*``) and files of other types are listed as ignored.

Every accepted file is copied (size-checked) into a private folder, so what was hashed is what
gets graded; zip members are streamed out one by one, never extracted by their own names.

Submission time comes from nothing the student controls. By default it is when this file system
received the file: the ctime of the attempt's ``hw1.py`` (or of the zip), which a user cannot
set (``touch`` and ``utime`` set the mtime, and moving the ctime only makes it later). A copy of
the folder resets every ctime, so grade the collection in place, or pass the LMS export's times
(``times``: student id -> time, e.g. from ``batch --times``), which then time each student's one
submission. The manifest's ``submitted_at`` (written on the student's machine, and editable) is
kept only as ``claimed_at``, to show beside the trusted time when they disagree.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from autograder.batch.zipmember import Rejected as _Rejected
from autograder.batch.zipmember import megabytes, read_single_member
from autograder.errors import SubmissionError
from autograder.submission import MAX_FILE_BYTES, is_utf8, printable, student_id_problem

# The largest student file graded; the engine refuses larger ones with the same limit.
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
MAX_FOLDER_ENTRIES = 10_000
MAX_MANIFEST_BYTES = 64 * 1024
_JUNK = {".DS_Store", "__MACOSX", "Thumbs.db", "desktop.ini", ".git", ".ipynb_checkpoints"}


class Submission(BaseModel):
    """One file to grade: ``path`` is a private copy, ``source`` where it came from.

    ``submitted_at`` is the trusted time (see the module docstring), ``time_source`` says which:
    ``"received"`` (the file's ctime here) or ``"lms export"``. ``claimed_at`` is the manifest's
    claim, for information only.
    """

    model_config = ConfigDict(extra="forbid")

    student_id: str
    path: Path
    source: str
    submitted_at: datetime | None
    sha256: str
    time_source: Literal["received", "lms export"] = "received"
    claimed_at: datetime | None = None


class Problem(BaseModel):
    """Something found that cannot be graded without a human deciding what it is."""

    model_config = ConfigDict(extra="forbid")

    location: str
    message: str
    student_id: str | None = None

    @property
    def key(self) -> str:
        """A stable sha256 for the gradebook key: reruns update one failure, not add more."""
        return hashlib.sha256(f"problem\0{self.location}".encode("utf-8", "replace")).hexdigest()


class Discovery(BaseModel):
    """Everything :func:`discover` found, in a stable order; ``time_notes`` say where the LMS
    export's times and the folder disagree."""

    submissions: list[Submission]
    problems: list[Problem]
    ignored: list[str]
    time_notes: list[str] = []


def _is_junk(name: str) -> bool:
    # ``.tmp-*``: an attempt ``autograder submit`` is still writing (renamed when complete).
    return name in _JUNK or name.startswith(("._", ".tmp-"))


def _received(st: os.stat_result) -> datetime:
    """When this file system got the file: its ctime, which no user can set back."""
    return datetime.fromtimestamp(st.st_ctime, UTC)


def discover(
    root: Path,
    student_file: str,
    *,
    extract_dir: Path,
    assignment_id: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_archive_bytes: int = MAX_ARCHIVE_BYTES,
    times: Mapping[str, datetime] | None = None,
) -> Discovery:
    """Find every submission under ``root`` (see the module docstring for the rules).

    Args:
        root: The folder a TA was given.
        student_file: The file each student submits (from the assignment spec), e.g. ``hw1.py``.
        extract_dir: A private, empty folder that receives copies of the files to grade.
        assignment_id: Name of the ``autograder submit`` folder; default: ``student_file``'s stem.
        max_bytes: Largest accepted student file.
        max_archive_bytes: Largest accepted zip.
        times: Each student's submission time from the LMS (aware datetimes); None: every
            submission is timed by when this file system received it.

    Raises:
        SubmissionError: ``root`` is not a readable folder.
    """
    if not root.is_dir():
        raise SubmissionError(f"{root}: not a folder of submissions")
    walker = _Walker(root, student_file, extract_dir, max_bytes, max_archive_bytes)
    walker.walk(root, assignment_id or student_file.removesuffix(".py"))
    found = walker.result()
    if times is not None:
        _apply_times(found, times)
    return found


def _apply_times(found: Discovery, times: Mapping[str, datetime]) -> None:
    """Time each student's one submission by the LMS export; say what does not match."""
    by_student: dict[str, list[Submission]] = {}
    for sub in found.submissions:
        by_student.setdefault(sub.student_id, []).append(sub)
    absent, several = [], []
    for student_id, subs in by_student.items():
        if student_id not in times:
            absent.append(student_id)
        elif len(subs) > 1:
            several.append(f"{student_id} ({len(subs)})")
        else:
            subs[0].submitted_at = times[student_id].astimezone(UTC)
            subs[0].time_source = "lms export"
    unused = sorted(set(times) - set(by_student))
    for students, what in (
        (absent, "not in the LMS export: timed by when the collection received the file"),
        (
            several,
            "several attempts, but the LMS export gives one time per student: each attempt "
            "timed by when the collection received it",
        ),
        (unused, "in the LMS export, but no submission found"),
    ):
        if students:
            found.time_notes.append(f"{len(students)} student(s) {what}: {', '.join(students)}")


class _Walker:
    def __init__(
        self,
        root: Path,
        student_file: str,
        extract_dir: Path,
        max_bytes: int,
        max_archive_bytes: int,
    ) -> None:
        self.root = root.resolve()
        self.student_file = student_file
        self.extract_dir = extract_dir
        self.max_bytes = max_bytes
        self.max_archive_bytes = max_archive_bytes
        # student id -> [(location, thunk producing submissions)] to spot two sources.
        self.candidates: dict[str, list[tuple[str, object]]] = {}
        self.problems: list[Problem] = []
        self.ignored: list[str] = []
        self.copies = 0

    # -- bookkeeping ----------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        try:
            text = str(path.relative_to(self.root))
        except ValueError:
            text = str(path)
        return printable(text)

    def problem(self, path: Path | str, message: str, student_id: str | None = None) -> None:
        location = path if isinstance(path, str) else self.rel(path)
        self.problems.append(Problem(location=location, message=message, student_id=student_id))

    def candidate(self, student_id: str, path: Path, produce) -> None:
        why = student_id_problem(student_id)
        if why:
            self.problem(path, why)
            return
        self.candidates.setdefault(student_id, []).append((self.rel(path), produce))

    def inside_root(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def entries(self, folder: Path) -> list[os.DirEntry]:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.problem(folder, f"cannot list folder: {exc.strerror}")
            return []

    def usable(self, entry: os.DirEntry, student_id: str | None = None) -> bool:
        """Junk, bad names and escaping symlinks are filtered here, once for every entry.

        ``student_id`` is whom a problem with this entry is recorded against, when known.
        """
        path = Path(entry.path)
        if _is_junk(entry.name):
            self.ignored.append(self.rel(path))
            return False
        if not is_utf8(entry.name):
            self.problem(path, "file name is not valid UTF-8; rename it")
            return False
        if entry.is_symlink() and not self.inside_root(path):
            owner = student_id if student_id and not student_id_problem(student_id) else None
            self.problem(
                path, "symlink pointing outside the submissions folder; not followed", owner
            )
            return False
        return True

    @staticmethod
    def named_student(name: str) -> str:
        """The student a top-level entry would belong to: ``x``, ``x.py`` or ``x.zip`` -> x."""
        for suffix in (".py", ".zip", ".ZIP"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    # -- layouts --------------------------------------------------------------------------

    def walk(self, folder: Path, assignment_id: str) -> None:
        for entry in self.entries(folder):
            if not self.usable(entry, self.named_student(entry.name)):
                continue
            path = Path(entry.path)
            name = entry.name
            if entry.is_dir():
                if name == assignment_id and self.is_submit_root(path):
                    self.walk_submit_root(path)
                else:
                    self.student_folder(name, path)
            elif not entry.is_file():
                self.ignored.append(self.rel(path))
            elif name == self.student_file:
                self.problem(
                    path,
                    f"{name} directly in the folder names no student; "
                    f"move it to <student_id>/{name} or <student_id>.py",
                )
            elif name.endswith(".py"):
                self.candidate(
                    name[: -len(".py")],
                    path,
                    lambda p=path, s=name[:-3]: [self.copy_file(s, p, self.rel(p), None)],
                )
            elif name.lower().endswith(".zip"):
                self.candidate(
                    name[: -len(".zip")], path, lambda p=path, s=name[:-4]: [self.from_zip(s, p)]
                )
            else:
                self.ignored.append(self.rel(path))

    def is_attempts_folder(self, folder: Path) -> bool:
        return any(
            e.is_dir() and not _is_junk(e.name) and (Path(e.path) / "manifest.json").is_file()
            for e in self.entries(folder)
        )

    def is_submit_root(self, folder: Path) -> bool:
        return any(
            e.is_dir() and self.is_attempts_folder(Path(e.path)) for e in self.entries(folder)
        )

    def walk_submit_root(self, folder: Path) -> None:
        for entry in self.entries(folder):
            if not self.usable(entry, entry.name):
                continue
            if entry.is_dir():
                self.student_folder(entry.name, Path(entry.path))
            else:
                self.ignored.append(self.rel(Path(entry.path)))

    def student_folder(self, student_id: str, folder: Path) -> None:
        if self.is_attempts_folder(folder):
            self.candidate(student_id, folder, lambda: self.attempts(student_id, folder))
        else:
            self.candidate(student_id, folder, lambda: [self.from_folder(student_id, folder)])

    def attempts(self, student_id: str, folder: Path) -> list[Submission]:
        found = []
        for entry in self.entries(folder):
            path = Path(entry.path)
            if not self.usable(entry, student_id):
                continue
            if not entry.is_dir():
                self.ignored.append(self.rel(path))
                continue
            try:
                claimed = self.manifest_claim(student_id, path / "manifest.json")
                target = path / self.student_file
                if not target.is_file():
                    raise _Rejected(f"attempt folder has no {self.student_file}")
                if target.is_symlink() and not self.inside_root(target):
                    raise _Rejected("symlink pointing outside the submissions folder")
                found.append(self.copy_file(student_id, target, self.rel(target), claimed))
            except _Rejected as exc:
                self.problem(path, str(exc), student_id)
        return found

    def manifest_claim(self, student_id: str, manifest: Path) -> datetime | None:
        """The manifest's ``submitted_at``: information only (the student wrote it)."""
        if not manifest.is_file():
            raise _Rejected("attempt folder has no manifest.json")
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise _Rejected(f"manifest.json is over {MAX_MANIFEST_BYTES // 1024} KB")
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _Rejected(f"manifest.json is not readable JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _Rejected("manifest.json is not a JSON object")
        claimed = data.get("student_id")
        if claimed is not None and claimed != student_id:
            raise _Rejected(f"manifest.json names student {claimed!r}, the folder {student_id!r}")
        try:
            when = datetime.fromisoformat(str(data["submitted_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return None  # a claim, and nothing depends on it
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

    def from_folder(self, student_id: str, folder: Path) -> Submission:
        matches, near, zips, seen = [], [], [], 0
        for dirpath, dirnames, filenames in os.walk(folder):
            seen += len(dirnames) + len(filenames)
            if seen > MAX_FOLDER_ENTRIES:
                raise _Rejected(f"folder holds over {MAX_FOLDER_ENTRIES} entries; not searched")
            dirnames[:] = sorted(d for d in dirnames if d not in _JUNK)
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name == self.student_file:
                    matches.append(path)
                elif name.lower() == self.student_file.lower():
                    near.append(self.rel(path))
                elif name.lower().endswith(".zip") and not name.startswith("._"):
                    zips.append(path)
        if not matches and len(zips) == 1 and not near:
            # LMS exports often wrap each student's upload in a folder: <student>/<upload>.zip
            if zips[0].is_symlink() and not self.inside_root(zips[0]):
                raise _Rejected("symlink pointing outside the submissions folder; not followed")
            return self.from_zip(student_id, zips[0])
        if not matches:
            hint = f" (found {', '.join(near)}: the name must match exactly)" if near else ""
            raise _Rejected(f"no {self.student_file} in the folder{hint}")
        if len(matches) > 1:
            listed = ", ".join(sorted(self.rel(p) for p in matches))
            raise _Rejected(f"{len(matches)} files named {self.student_file}: {listed}")
        target = matches[0]
        if not is_utf8(str(target)):
            raise _Rejected(f"path of {self.student_file} is not valid UTF-8")
        if target.is_symlink() and not self.inside_root(target):
            raise _Rejected("symlink pointing outside the submissions folder; not followed")
        return self.copy_file(student_id, target, self.rel(target), None)

    # -- reading, size-checked ------------------------------------------------------------

    def store(self, data: bytes) -> tuple[Path, str]:
        self.copies += 1
        folder = self.extract_dir / f"{self.copies:05d}"
        folder.mkdir(mode=0o700)
        path = folder / self.student_file
        path.write_bytes(data)
        return path, hashlib.sha256(data).hexdigest()

    def copy_file(
        self, student_id: str, path: Path, source: str, claimed_at: datetime | None
    ) -> Submission:
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise _Rejected("not a regular file")
            if st.st_size > self.max_bytes:
                raise _Rejected(
                    f"{self.student_file} is {megabytes(st.st_size)}, over the "
                    f"{megabytes(self.max_bytes)} limit; not read"
                )
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise _Rejected(f"cannot read: {exc.strerror}") from None
        if len(data) > self.max_bytes:
            raise _Rejected(f"{self.student_file} grew past the {megabytes(self.max_bytes)} limit")
        copy, digest = self.store(data)
        return Submission(
            student_id=student_id,
            path=copy,
            source=source,
            submitted_at=_received(st),
            sha256=digest,
            claimed_at=claimed_at,
        )

    def from_zip(self, student_id: str, path: Path) -> Submission:
        data, member = read_single_member(
            path,
            self.student_file,
            max_bytes=self.max_bytes,
            max_archive_bytes=self.max_archive_bytes,
        )
        copy, digest = self.store(data)
        return Submission(
            student_id=student_id,
            path=copy,
            source=f"{self.rel(path)}!{member}",
            submitted_at=_received(path.stat()),
            sha256=digest,
        )

    # -- result ---------------------------------------------------------------------------

    def result(self) -> Discovery:
        submissions: list[Submission] = []
        for student_id, sources in sorted(self.candidates.items()):
            if len(sources) > 1:
                listed = ", ".join(location for location, _ in sources)
                self.problem(
                    listed,
                    f"{len(sources)} candidate submissions for one student; keep one",
                    student_id,
                )
                continue
            location, produce = sources[0]
            try:
                submissions.extend(produce())
            except _Rejected as exc:
                self.problem(location, str(exc), student_id)
        submissions.sort(key=lambda s: (s.student_id, s.submitted_at or datetime.min, s.source))
        problems = sorted(self.problems, key=lambda p: p.location)
        return Discovery(submissions=submissions, problems=problems, ignored=sorted(self.ignored))
