"""The isolation around one warm zygote: its wrapper, inbox, scratch, uid and per-run cgroups.

One ``Slot`` per ``Zygote``. Per submission the trusted side calls ``prepare`` (stage a copy of the
file into the slot's read-only inbox, pick a fresh scratch directory, build the ``confine`` dict),
``admit`` once the worker is forked and before it gets its request (cgroup join), and ``release``
after the run (OOM verdict, kill-all, cleanup). The zygote empties the scratch root after every
worker, so nothing one submission writes is seen by the next.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import tempdirs
from autograder.errors import SandboxError
from autograder.sandbox import bubblewrap, cgroups, scratch, uid
from autograder.sandbox.capabilities import Capabilities, probe
from autograder.sandbox.policy import MB, LimitsLike, confine_settings
from autograder.sandbox.summary import processes_bounded

SCRATCH_ENV = "AUTOGRADER_SCRATCH_ROOT"
_slot_ids = itertools.count()


@dataclass(frozen=True)
class Prepared:
    """One submission ready to run: ``path`` goes in ``request["path"]``, ``confine`` too."""

    path: str
    confine: dict[str, Any]


class Slot:
    """Isolation state shared by every run of one zygote. Not thread-safe, like the zygote."""

    def __init__(
        self,
        caps: Capabilities | None = None,
        *,
        scratch_mb: int = 64,
        readable: list[Path] | tuple[Path, ...] = (),
        insecure: bool = False,
    ) -> None:
        self.caps = caps or probe()
        self.scratch_mb = scratch_mb
        self.readable = [Path(p).resolve() for p in readable]
        self.insecure = insecure
        self._id = f"{os.getpid()}-{next(_slot_ids)}"
        self._runs = itertools.count()
        self._base: Path | None = None
        self._lease: uid.UidLease | None = None
        self._group: cgroups.RunGroup | None = None
        self._group_cpus = 1
        self._staged: Path | None = None
        self._scratch: Path | None = None
        self._groups = itertools.count()

    # -- lifetime -------------------------------------------------------------------------

    def open(self) -> Slot:
        """Create the slot's directories and claim its uid (idempotent)."""
        if self._base is not None:
            return self
        if not processes_bounded(self.caps) and not self.insecure:
            raise SandboxError(
                "the grader runs as root but neither a sandbox uid nor a pids cgroup is available, "
                "so a fork bomb would be unbounded; run 'autograder doctor', or pass --insecure"
            )
        if self.caps.active("sandbox-uid"):
            try:
                self._lease = uid.claim()
            except OSError as exc:
                raise SandboxError(f"cannot claim a sandbox uid: {exc}") from None
        # a folder of ours that the next grader removes if this one is killed
        self._owned = tempdirs.OwnedDir("autograder-slot-")
        self._base = self._owned.path
        # chmod, not mkdir's mode: a umask such as 077 would lock out the sandbox uid, and
        # every submission would fail to import ("Permission denied")
        self._base.chmod(0o711)
        for name in ("in", "scratch"):
            (self._base / name).mkdir()
            (self._base / name).chmod(0o711)
        return self

    def close(self) -> None:
        """Remove the slot's files and give its uid back."""
        self._end_run()
        self._unstage()
        if self._lease is not None:
            uid.kill_uid(self._lease.uid)
            self._lease.release()
            self._lease = None
        if self._base is not None:
            self._owned.close()
            self._base = None

    @property
    def sandbox_uid(self) -> int | None:
        return self._lease.uid if self._lease else None

    @property
    def private_scratch(self) -> bool:
        """Scratch is a capped tmpfs the zygote's mount namespace holds (bubblewrap's, or its
        own): the host's ``scratch_root`` stays empty; look through ``/proc/<zygote>/root``."""
        return self.caps.active("bubblewrap") or self.caps.active("scratch-tmpfs")

    @property
    def scratch_root(self) -> Path:
        self.open()
        assert self._base is not None
        return self._base / "scratch"

    # -- zygote start ---------------------------------------------------------------------

    def wrapper(self) -> list[str]:
        """Command prefix for the zygote: bubblewrap when it works here, else nothing."""
        self.open()
        assert self._base is not None
        if not self.caps.active("bubblewrap") or not self.caps.bwrap:
            return []
        return bubblewrap.command(
            self.caps.bwrap,
            scratch_root=str(self.scratch_root),
            scratch_bytes=self.scratch_mb * MB,
            inbox=str(self._base / "in"),
            readable=[str(p) for p in self.readable],
            root=self.caps.root,
        )

    def env(self) -> dict[str, str]:
        """Extra environment for the zygote: where worker scratch lives (emptied after each run),
        and its total size when the zygote must cap it itself (no bubblewrap)."""
        env = {SCRATCH_ENV: str(self.scratch_root)}
        if self.caps.active("scratch-tmpfs") and not self.caps.active("bubblewrap"):
            env[scratch.SIZE_ENV] = str(self.scratch_mb)
        return env

    # -- per submission -------------------------------------------------------------------

    def prepare(
        self, limits: LimitsLike, student_file: Path | str, source: bytes | None = None
    ) -> Prepared:
        """Stage ``student_file`` and build the ``confine`` dict for its run.

        With ``source``, the staged file holds those bytes and ``student_file`` only names it
        (the grader has read the submission already: no second copy on disk).
        """
        self.open()
        assert self._base is not None
        # not _end_run(): the cgroup may already hold the spare child this run will use
        self._unstage()
        token = f"{next(self._runs):05d}-{secrets.token_hex(4)}"
        staged_dir = self._base / "in" / token
        staged_dir.mkdir()
        staged_dir.chmod(0o755)
        staged = staged_dir / Path(student_file).name
        if source is None:
            source = _read_regular_file(Path(student_file))
        _write_new_file(staged, source)
        self._staged = staged_dir
        self._scratch = self.scratch_root / token
        confine = confine_settings(
            limits,
            self._scratch,
            staged,
            self.readable,
            self.insecure,
            caps=self.caps,
            sandbox_uid=self.sandbox_uid,
        )
        return Prepared(str(staged), confine)

    def admit(self, pid: int, confine: dict[str, Any]) -> None:
        """Put the freshly forked worker ``pid`` in its own cgroup before it reads its request.

        Raises:
            SandboxError: the cgroup could not be made; the worker has been killed.
        """
        self._end_run()  # whatever an interrupted run left behind
        spec = confine.get("cgroup")
        if not spec or self.caps.cgroup is None:
            return
        try:
            self._group = cgroups.RunGroup(
                self.caps.cgroup,
                f"{self._id}-{next(self._groups)}",
                int(spec["memory_bytes"]),
                int(spec["pids"]),
                cpus=1,
            )
            self._group_cpus = 1
            self._group.join(pid)
        except OSError as exc:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise SandboxError(f"cannot put the worker in its cgroup: {exc}") from None

    def limit_cpus(self, threads: int) -> None:
        """Give the current run's cgroup a quota of ``threads`` CPUs (the run's intra-op threads;
        a group starts with one). Call before the request is written; no-op without a cgroup."""
        if self._group is not None and threads != self._group_cpus:
            self._group.limit_cpus(threads)
            self._group_cpus = threads

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by every process of the current run, or None without a cgroup
        that counts it."""
        return self._group.cpu_seconds() if self._group is not None else None

    def release(self, result: Any) -> None:
        """After a run: call a cgroup OOM kill 'memory', kill what is left, clean up.

        ``result`` is the run's ``RunResult``; its ``ending`` becomes ``"memory"`` when the kernel
        killed the worker for exceeding its memory limit.
        """
        group = self._group
        if group is not None:
            killed = group.oom_kills()
            status = getattr(result, "exit_status", None)
            died = (
                status is not None
                and os.WIFSIGNALED(status)
                and os.WTERMSIG(status) == signal.SIGKILL
            )
            if killed and (died or result.ending in ("crashed", "done")):
                result.ending = "memory"
                limit = group_limit_mb(group)
                result.detail = (
                    f"memory limit exceeded ({limit} MB)" if limit else "memory limit exceeded"
                )
        self._end_run()

    def _end_run(self) -> None:
        if self._group is not None:
            self._group.kill_all()
            self._group.remove()
            self._group = None
        if self._scratch is not None and not self.private_scratch:
            tempdirs.remove_tree(self._scratch)  # the zygote empties it too

    def _unstage(self) -> None:
        if self._staged is not None:
            tempdirs.remove_tree(self._staged)
            self._staged = None
        self._scratch = None

    def __enter__(self) -> Slot:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_regular_file(source: Path) -> bytes:
    """A regular file's bytes, refusing symlinks: the grader may be root and the copy is
    readable."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SandboxError(f"cannot stage {source} for the worker: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise SandboxError(f"cannot stage {source} for the worker: not a regular file")
        return src.read()


def _write_new_file(target: Path, data: bytes) -> None:
    """Create ``target`` (which must not exist) holding ``data``, readable by the worker."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as dst:
        dst.write(data)
    target.chmod(0o644)  # whatever the umask took away


def group_limit_mb(group: cgroups.RunGroup) -> int | None:
    """The memory limit of ``group`` in MB, read back from the kernel."""
    name = "memory.limit_in_bytes" if group.support.version == 1 else "memory.max"
    try:
        return int((group.dirs[0] / name).read_text()) // MB
    except (OSError, ValueError):
        return None
