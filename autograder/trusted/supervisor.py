"""Trusted side of the worker boundary: start a warm zygote, run one request in a fresh child.

``Zygote`` starts ``autograder.untrusted.zygote`` once (paying for ``import torch`` once) with a
minimal environment. ``Zygote.run`` forks a child for one request and supervises it: a wall-clock
deadline per task and per request, enforced here with ``select`` on pipes the child cannot block,
a cap on result and output bytes, and SIGKILL of the child's whole process group on timeout. The
zygote (a subreaper) kills and reaps whatever the child left behind before it reports the exit.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.errors import AutograderError, WorkerProtocolError
from autograder.sandbox import Slot, protect_grader

if TYPE_CHECKING:
    import torch

    from autograder.wire import frames as wire

# This module does not import torch (``wire`` does, so it is imported where frames are built):
# ``autograder check`` starts its zygote first and imports torch while the zygote does the same.

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # holds the autograder package
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    "from autograder.untrusted.zygote import main; main(int(sys.argv[1]))"
)


def launch_early(*, scratch_mb: int, insecure: bool = False, threads: int = 1) -> Zygote:
    """Start a boxed zygote now and return without waiting for it.

    Importing torch takes seconds in the zygote and again in the grader; a command that grades
    one file calls this before it imports the engine, so the two imports overlap, and passes
    the zygote to ``Grader(prelaunched=...)``, which takes it if its settings match. bubblewrap
    dies with the thread that started it: call this from the thread that outlives the grading.
    """
    from autograder import sandbox

    slot = sandbox.Slot(sandbox.probe(), scratch_mb=scratch_mb, insecure=insecure)
    return Zygote(threads, slot=slot).launch()


def worker_env(threads: int) -> dict[str, str]:
    """The whole environment a worker gets: no secrets, no paths to hidden files."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class TaskDeadline:
    """Seconds allowed from a task's ``task_start`` frame to its ``task_end``."""

    seconds: float


@dataclass
class RunResult:
    """What one child run produced, as seen from outside."""

    frames: list[tuple[dict[str, Any], dict[str, torch.Tensor]]] = field(default_factory=list)
    # How it ended: "done", "timeout", "crashed", "protocol", "cpu", "memory", "no start".
    ending: str = "done"
    detail: str = ""
    exit_status: int | None = None
    current_task: str | None = None
    output_head: bytes = b""
    output_tail: bytes = b""
    seconds: float = 0.0
    # CPU seconds the run used: every process of its cgroup, else the worker and the children
    # it waited for (``/proc``); None where neither could be read. Beside ``wall_seconds``:
    # wall time far above CPU time means the machine, not the submission, was slow.
    cpu_seconds: float | None = None
    # CPU seconds per task id, for the tasks that ended (or were ended for their CPU budget),
    # and the wall seconds the grader's clock saw for the same tasks.
    task_cpu_seconds: dict[str, float] = field(default_factory=dict)
    task_wall_seconds: dict[str, float] = field(default_factory=dict)
    # Set once the child and everything it started are dead and its cgroup is gone. A run that
    # finished every task is settled in the background (see ``Zygote.run``); wait for this
    # before reporting on the run.
    settled: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def wall_seconds(self) -> float:
        """Seconds from the request's start to the run's end, as the grader's clock saw them."""
        return self.seconds

    @property
    def output_text(self) -> str:
        head = self.output_head.decode(errors="replace")
        tail = self.output_tail.decode(errors="replace")
        return head + ("\n...(output truncated)...\n" + tail if tail else "")


class _CappedOutput:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.cap:
                self.dropped += len(self.tail) - self.cap
                del self.tail[: len(self.tail) - self.cap]


def describe_status(status: int | None) -> str:
    """'killed by signal 11 (SIGSEGV)' / 'exit code 3' for a wait status."""
    if status is None:
        return "unknown exit"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "?"
        return f"signal {sig} ({name})"
    return f"exit code {os.WEXITSTATUS(status)}"


class Zygote:
    """One warm worker slot. Not thread-safe: one run at a time per zygote."""

    def __init__(
        self,
        threads: int = 1,
        *,
        wrapper: list[str] | None = None,
        slot: Slot | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.threads = threads
        # Set by the owner to abandon runs in progress (Ctrl-C) instead of waiting them out.
        self.stop = stop
        self._wrapper = wrapper or []
        # Isolation (sandbox): bwrap wrapper, per-run cgroup, staged files. Owned by the caller.
        self.slot = slot
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen | None = None
        self.pid: int | None = None
        self._bundles: set[str] = set()  # keys this zygote process holds
        self._guards: set[tuple[str, ...]] = set()  # forbid lists it has prepared
        # Control messages that arrived while we waited for another one.
        self._messages: list[dict[str, Any]] = []
        # A child forked (and put in its cgroup) ahead of the next run, waiting for a request.
        self._spare: _Child | None = None
        # Settling the last run and forking the spare, overlapped with the caller's scoring.
        self._housekeeping: threading.Thread | None = None
        self._housekeeping_error: BaseException | None = None
        # The zygote process's limits and descriptors right after it became ready.
        self._health: _Health | None = None

    def start(self) -> Zygote:
        """Launch and wait until the zygote has imported torch."""
        return self.launch().wait_ready()

    def launch(self) -> Zygote:
        """Start the process without waiting for it.

        bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that started it
        exits, so call this from a thread that lives as long as the zygote should.
        """
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        wrapper, extra_env = self._sandbox_start()
        cmd = [
            *wrapper,
            sys.executable,
            "-I",
            "-B",
            "-c",
            _BOOT,
            str(child.fileno()),
            _PACKAGE_PARENT,
        ]
        self._proc = subprocess.Popen(
            cmd,
            pass_fds=[child.fileno()],
            env={**worker_env(self.threads), **extra_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
        )
        child.close()
        self._sock = parent
        self._bundles = set()
        self._guards = set()
        self._messages = []
        self._spare = None
        return self

    def wait_ready(self) -> Zygote:
        assert self._sock is not None and self._proc is not None
        self._sock.settimeout(120)
        try:
            ready = json.loads(self._sock.recv(4096) or b"{}")
        except (OSError, ValueError) as exc:
            raise AutograderError(f"the worker process failed to start: {exc}") from None
        if "ready" not in ready:
            err = (
                self._proc.stderr.read().decode(errors="replace")[-2000:]
                if self._proc.stderr
                else ""
            )
            raise AutograderError(
                f"the worker process failed to start: {err.strip() or 'no output'}"
            )
        self.pid = ready["ready"]
        self._sock.settimeout(None)
        self._health = _Health.read(self.pid)
        return self

    def health_problem(self) -> str | None:
        """What changed in the zygote process since it became ready, as a sentence; None if
        nothing did.

        Read from here without touching it (``prlimit`` read-only, ``/proc``): its resource
        limits, open descriptors, CPU affinity and nice value. A worker that reached it (the
        same uid, a layer missing) could have clamped its RLIMIT_NOFILE or RLIMIT_AS, and every
        child it forks after would fail: the engine calls this between runs and replaces a
        zygote that reports a problem, so its broken state never becomes a student's grade.
        """
        if self.pid is None or self._health is None:
            return None
        if self._proc is not None and self._proc.poll() is not None:
            return "the zygote process has exited"
        return self._health.compare(_Health.read(self.pid))

    def _sandbox_start(self) -> tuple[list[str], dict[str, str]]:
        """The zygote's wrapper and extra environment; the grader becomes non-dumpable."""
        protect_grader()
        if self.slot is None:
            return self._wrapper, {}
        return self._wrapper or self.slot.wrapper(), self.slot.env()

    def close(self) -> None:
        try:
            self.join_housekeeping()
        except AutograderError:
            pass  # closing anyway
        if self._spare is not None:
            self._spare.close()  # the zygote kills it on quit; the slot removes its cgroup
            self._spare = None
        if self._sock is not None:
            try:
                self._sock.send(b"quit")
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def __enter__(self) -> Zygote:
        return self.start() if self._sock is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _control(self, timeout: float) -> dict[str, Any] | None:
        assert self._sock is not None
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(4096)
        except TimeoutError:
            return None
        except OSError as exc:
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        finally:
            self._sock.settimeout(None)
        if not data:
            raise AutograderError(f"the worker process exited unexpectedly{self._last_words()}")
        return json.loads(data)

    def _last_words(self) -> str:
        """The end of a dead zygote's stderr, for the error message ("" while it runs)."""
        proc = self._proc
        try:
            if proc is None or proc.wait(timeout=1) is None or proc.stderr is None:
                return ""
            text = proc.stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return ""
        return f": {text[-1500:]}" if text else f" (exit status {proc.returncode})"

    def preload(self, bundle: wire.Bundle) -> None:
        """Hand ``bundle`` to the zygote once; every child forked after it inherits it."""
        self.join_housekeeping()
        if bundle.key in self._bundles:
            return
        if self._sock is None:
            self.start()
        assert self._sock is not None
        self._drop_spare()  # forked before the bundle arrived: it would not have it
        read_end, write_end = os.pipe()
        try:
            socket.send_fds(self._sock, [f"bundle {bundle.key}".encode()], [read_end])
        except OSError as exc:
            os.close(write_end)
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        finally:
            os.close(read_end)
        _write_all(write_end, bundle.blob)  # the zygote reads as we write; closes write_end
        reply = self._next(lambda m: "bundle" in m, 120)
        if reply is None or reply.get("bundle") != bundle.key:
            why = (reply or {}).get("error", "no answer")
            raise AutograderError(f"the worker process could not take the grading inputs ({why})")
        self._bundles.add(bundle.key)

    def prepare_guards(self, forbid_lists: list[list[str]]) -> None:
        """Have the zygote build the runtime guard for each forbid list once (children inherit
        them instead of spending ~1.5 ms per task building them)."""
        new = sorted({tuple(f) for f in forbid_lists if f} - self._guards)
        if not new:
            return
        self.join_housekeeping()
        if self._sock is None:
            self.start()
        assert self._sock is not None
        self._drop_spare()  # forked before the guards were built
        try:
            self._sock.send(b"guards " + json.dumps([list(f) for f in new]).encode())
        except OSError as exc:
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        reply = self._next(lambda m: "guards" in m, 60)
        if reply is None or reply.get("guards") != len(new):
            why = (reply or {}).get("error", "no answer")
            raise AutograderError(f"the worker process could not prepare its guards ({why})")
        self._guards.update(new)

    def run(
        self,
        request: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        *,
        bundles: tuple[wire.Bundle, ...] | list[wire.Bundle] = (),
        task_seconds: dict[str, float],
        total_seconds: float,
        import_seconds: float | None = None,
        max_result_bytes: int = 1 << 30,
        output_cap: int = 32 * 1024,
        frame_limit: Callable[[dict[str, Any]], int | None] | None = None,
        task_cpu_seconds: dict[str, float] | None = None,
    ) -> RunResult:
        """Start a child (the spare if there is one), send it the request, collect its frames.

        ``import_seconds`` bounds the import of the submission (from the bootstrap's hello frame
        to the import frame); ``task_seconds`` each task; ``total_seconds`` the whole run.
        ``bundles`` are preloaded into the zygote (once each) and reach the child by key; their
        tensors join ``tensors``. ``frame_limit`` caps each result frame by its header (see
        ``wire.FrameReader``); ``max_result_bytes`` caps the run's results in total.
        ``task_cpu_seconds`` bounds tasks by the run's own CPU time (``RunResult.cpu_seconds``):
        over it, the task ends with ending "cpu"; ``task_seconds`` stays the wall-clock bound.

        A run that ends abnormally is settled before this returns. A run that finished every
        task has been SIGKILLed, but waiting for its exit, emptying its cgroup and forking the
        next spare happen on a background thread while the caller scores the results: wait on
        ``result.settled`` before reporting. The next call on this zygote waits for it too.
        """
        self.join_housekeeping()
        if self._sock is None:
            self.start()
        for bundle in bundles:
            self.preload(bundle)
        self.prepare_guards([t.get("forbid", []) for t in request.get("tasks", [])])
        if bundles:
            request = {**request, "bundles": [b.key for b in bundles]}
        from autograder.wire import frames as wire

        confine = request.get("confine") or {}
        payload = wire.encode(request, tensors)
        child = self._take_spare(confine) or self._fork(confine)
        if child is None:
            result = RunResult(ending="no start", detail="the worker could not be forked")
            result.settled.set()
            return result
        if self.slot is not None:
            # before the request: the child runs nothing of the submission's until it reads it
            self.slot.limit_cpus(int(request.get("threads") or 1))
        started = time.monotonic()
        writer = threading.Thread(target=_write_all, args=(child.req_w, payload), daemon=True)
        writer.start()
        result = self._supervise(
            child.pid,
            child.res_r,
            child.out_r,
            task_seconds,
            total_seconds,
            max_result_bytes,
            output_cap,
            import_seconds,
            frame_limit,
            task_cpu_seconds,
        )
        writer.join(timeout=5)
        result.seconds = time.monotonic() - started
        complete = result.ending == "done" and any(
            h.get("type") == "done" for h, _ in result.frames
        )
        if not complete:
            self._settle(child.pid, result)
            return result
        # Every task finished and the child is SIGKILLed: what is left is kernel teardown and
        # cleanup, which does not change the result. Overlap it with the caller's scoring.
        self._housekeeping_error = None
        self._housekeeping = threading.Thread(
            target=self._housekeep, args=(child.pid, result, confine), daemon=True
        )
        self._housekeeping.start()
        return result

    @property
    def spare_pid(self) -> int | None:
        """The pid of the child forked ahead for the next run (it has run nothing yet)."""
        return self._spare.pid if self._spare is not None else None

    def join_housekeeping(self) -> None:
        """Wait for the background settling of the last run and the spare's fork."""
        thread, self._housekeeping = self._housekeeping, None
        if thread is not None:
            thread.join()
        error, self._housekeeping_error = self._housekeeping_error, None
        if error is not None:
            raise AutograderError(f"the worker process failed between runs ({error})")

    def _housekeep(self, pid: int, result: RunResult, confine: dict[str, Any]) -> None:
        # Errors are raised to the next caller (join_housekeeping), but the finished run is
        # settled whatever happens to the spare: its report waits for that.
        spare = None
        try:
            if self.stop is None or not self.stop.is_set():
                # asked first: the zygote forks while the kernel tears the last child down
                spare = self._send_fork()
        except BaseException as exc:  # noqa: BLE001
            self._housekeeping_error = exc
        try:
            self._settle(pid, result)
            if spare is not None:
                self._spare = self._receive_fork(spare, confine)
        except BaseException as exc:  # noqa: BLE001
            self._housekeeping_error = self._housekeeping_error or exc

    def _settle(self, pid: int, result: RunResult) -> None:
        """Wait until the zygote reaped ``pid`` and its leftovers; release the slot's cgroup."""
        try:
            try:
                status = self._wait_exit(pid)
            except AutograderError:
                status = None  # the zygote died: it took the child with it (PDEATHSIG)
            result.exit_status = status
            if status is not None and result.ending in ("done", "crashed"):
                if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
                    result.ending, result.detail = "cpu", "CPU time limit exceeded"
                elif result.ending == "crashed":
                    result.detail = describe_status(status)
            if self.slot is not None:
                self.slot.release(result)  # cgroup OOM -> ending "memory"; kill-all; cleanup
        finally:
            result.settled.set()

    def _fork(self, confine: dict[str, Any]) -> _Child | None:
        """A new child, in its cgroup, blocked on reading its request; None if fork failed."""
        return self._receive_fork(self._send_fork(), confine)

    def _send_fork(self) -> tuple[int, int, int]:
        """Ask the zygote for a child; our ends of its request, result and output pipes."""
        assert self._sock is not None
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        _widen(res_w)
        try:
            socket.send_fds(self._sock, [b"fork"], [req_r, res_w, out_w])
        except OSError as exc:
            for fd in (req_w, res_r, out_r):
                os.close(fd)
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        finally:
            for fd in (req_r, res_w, out_w):
                os.close(fd)
        return req_w, res_r, out_r

    def _receive_fork(self, pipes: tuple[int, int, int], confine: dict[str, Any]) -> _Child | None:
        """The child ``_send_fork`` asked for, put in its cgroup; None if the fork failed."""
        forked = self._expect("forked", 30)
        if forked is None:
            for fd in pipes:
                os.close(fd)
            return None
        child = _Child(int(forked), *pipes, confine.get("cgroup"))
        if self.slot is not None:
            # before the request is written: the child runs nothing of the student's yet
            try:
                self.slot.admit(child.pid, confine)
            except AutograderError:
                child.close()
                raise
        return child

    def _take_spare(self, confine: dict[str, Any]) -> _Child | None:
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare.cgroup != confine.get("cgroup"):
            self._spare = spare
            self._drop_spare()
            return None
        # a spare that died while it waited (killed from outside) must not cost a submission
        # its grade: its exit report is on the socket, or it is at least a zombie already
        while select.select([self._sock], [], [], 0)[0]:
            msg = self._control(1)
            if msg is not None:
                self._messages.append(msg)
        dead = [m for m in self._messages if m.get("exit") == spare.pid]
        if dead or _gone(spare.pid):
            if dead:
                self._messages.remove(dead[0])
            spare.close()  # its cgroup goes when the next child is admitted
            return None
        return spare

    def _drop_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is None:
            return
        _kill_group(spare.pid)
        spare.close()
        try:
            self._wait_exit(spare.pid)
        except AutograderError:
            pass

    def _next(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any] | None:
        """The first control message ``wanted`` accepts; None on timeout.

        Messages that arrive meanwhile are kept for later calls (an exit report while a fork
        reply is awaited, and the reverse).
        """
        for i, msg in enumerate(self._messages):
            if wanted(msg):
                return self._messages.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self._control(left)
            if msg is None:
                return None
            if wanted(msg):
                return msg
            self._messages.append(msg)
        return None

    def _expect(self, key: str, timeout: float) -> Any:
        """The value of ``key`` in the next control message that has it; None on timeout."""
        msg = self._next(lambda m: key in m, timeout)
        return None if msg is None else msg[key]

    def _supervise(
        self,
        pid: int,
        res_r: int,
        out_r: int,
        task_seconds: dict[str, float],
        total_seconds: float,
        max_result_bytes: int,
        output_cap: int,
        import_seconds: float | None = None,
        frame_limit: Callable[[dict[str, Any]], int | None] | None = None,
        task_cpu_seconds: dict[str, float] | None = None,
    ) -> RunResult:
        from autograder.wire import frames as wire

        result = RunResult()
        cpu = _CpuClock(self.slot, pid)
        cpu_budget: float | None = None  # the current task's, in CPU seconds
        task_cpu_start = task_wall_start = 0.0
        importing = False
        reader = wire.FrameReader(max_result_bytes, frame_limit)
        output = _CappedOutput(output_cap)
        sel = selectors.DefaultSelector()
        sel.register(res_r, selectors.EVENT_READ, "result")
        sel.register(out_r, selectors.EVENT_READ, "output")
        start = time.monotonic()
        overall = start + total_seconds
        task_deadline: float | None = None
        finished = False
        killed = False
        open_fds = {res_r, out_r}
        while open_fds and not finished:
            if self.stop is not None and self.stop.is_set():
                # the grader is shutting down (Ctrl-C): do not wait for this submission's budget
                result.ending, result.detail = "interrupted", "grading was interrupted"
                _kill_group(pid)
                killed = True
                break
            now = time.monotonic()
            deadline = min(overall, task_deadline) if task_deadline else overall
            if now >= deadline:
                result.ending = "timeout"
                limit = (
                    task_seconds.get(result.current_task or "", total_seconds)
                    if task_deadline and task_deadline <= overall
                    else total_seconds
                )
                if importing and task_deadline and task_deadline <= overall and import_seconds:
                    limit = import_seconds
                result.detail = f"no result within {limit:g} s"
                _kill_group(pid)
                killed = True
                break
            if cpu_budget is not None and cpu.used() - task_cpu_start > cpu_budget:
                task = result.current_task or ""
                result.task_cpu_seconds[task] = cpu.used() - task_cpu_start
                result.task_wall_seconds[task] = time.monotonic() - task_wall_start
                result.ending = "cpu"
                result.detail = f"the task used more than its {cpu_budget:g} s of CPU time"
                _kill_group(pid)
                killed = True
                break
            # a task with a CPU budget is checked ten times a second
            poll = 1.0 if cpu_budget is None else 0.1
            events = sel.select(timeout=min(deadline - now, poll))
            for key, _ in events:
                fd = key.fd
                try:
                    data = os.read(fd, 1 << 20)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(fd)
                    open_fds.discard(fd)
                    continue
                if key.data == "output":
                    output.add(data)
                    continue
                violation = None
                try:
                    frames = reader.feed(data)
                except WorkerProtocolError as exc:
                    # the frames before the violation count, however the bytes were read
                    frames, violation = exc.frames, exc
                for header, tensors in frames:
                    kind = header.get("type")
                    if kind == "hello" and import_seconds:
                        importing = True
                        task_deadline = time.monotonic() + import_seconds
                    elif kind == "import":
                        importing = False
                        task_deadline = None
                    elif kind == "task_start":
                        result.current_task = str(header.get("task"))
                        task_deadline = time.monotonic() + task_seconds.get(
                            result.current_task, total_seconds
                        )
                        cpu_budget = (task_cpu_seconds or {}).get(result.current_task)
                        task_cpu_start = cpu.used()
                        task_wall_start = time.monotonic()
                    elif kind == "task_end":
                        if result.current_task is not None:
                            used = cpu.used() - task_cpu_start
                            result.task_cpu_seconds[result.current_task] = used
                            wall = time.monotonic() - task_wall_start
                            result.task_wall_seconds[result.current_task] = wall
                        result.current_task = None
                        task_deadline = None
                        cpu_budget = None
                    result.frames.append((header, tensors))
                    if kind in ("done", "worker_error"):
                        finished = True
                if violation is not None:
                    result.ending, result.detail = "protocol", str(violation)
                    _kill_group(pid)
                    killed = True
                    finished = True
                    break
            if not open_fds and not finished and result.ending == "done":
                result.ending = "crashed"
        if (
            finished
            and result.ending == "done"
            and not any(h.get("type") == "done" for h, _ in result.frames)
        ):
            result.ending = "crashed"
        # Never wait for EOF: a daemon the student started may hold the pipes open.
        if not killed:
            _kill_group(pid)
        # Drain a little remaining output for the report, without blocking.
        for fd in list(open_fds):
            try:
                os.set_blocking(fd, False)
                data = os.read(fd, output_cap)
                if fd == out_r and data:
                    output.add(data)
            except OSError:
                pass
        sel.close()
        for fd in (res_r, out_r):
            os.close(fd)
        result.output_head, result.output_tail = bytes(output.head), bytes(output.tail)
        result.cpu_seconds = cpu.total()
        return result

    def _wait_exit(self, pid: int) -> int | None:
        msg = self._next(lambda m: m.get("exit") == pid, 10)
        return None if msg is None else int(msg["status"])


@dataclass
class _Child:
    """A forked worker child and the grader's ends of its pipes."""

    pid: int
    req_w: int
    res_r: int
    out_r: int
    cgroup: Any  # the cgroup settings it was admitted with

    def close(self) -> None:
        for fd in (self.req_w, self.res_r, self.out_r):
            try:
                os.close(fd)
            except OSError:
                pass


class _CpuClock:
    """The CPU seconds a run has used since it was asked for: its cgroup's count when the slot
    has one (every process it started), else the worker's ``/proc`` times (itself and the
    children it waited for). Never decreases; holds its last value once the worker is gone."""

    def __init__(self, slot: Slot | None, pid: int) -> None:
        self._read: Callable[[], float | None] = lambda: _proc_cpu_seconds(pid)
        if slot is not None and slot.cpu_seconds() is not None:
            self._read = slot.cpu_seconds
        self._start = self._read()
        self._last = 0.0

    def used(self) -> float:
        now = self._read()
        if now is not None and self._start is not None:
            self._last = max(self._last, now - self._start)
        return self._last

    def total(self) -> float | None:
        """``used()``, or None when the count could never be read."""
        return self.used() if self._start is not None else None


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime + cutime + cstime of ``pid``, from ``/proc/<pid>/stat``; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        return sum(int(v) for v in fields[11:15]) / _CLOCK_TICKS
    except (OSError, ValueError):
        return None


# Descriptors the zygote holds for a moment: a fork's three pipe ends, a bundle's pipe.
_FDS_IN_TRANSIT = 4


def _rlimit_names() -> dict[str, int]:
    """name -> resource, one name per resource (RLIMIT_OFILE is RLIMIT_NOFILE's alias)."""
    found: dict[int, str] = {}
    for name in sorted(n for n in dir(resource) if n.startswith("RLIMIT_")):
        found.setdefault(getattr(resource, name), name)
    return {name: which for which, name in sorted(found.items())}


_RLIMITS = _rlimit_names()


@dataclass(frozen=True)
class _Health:
    """What a zygote process looks like from outside: its limits and open descriptors."""

    limits: dict[str, tuple[int, int] | None]
    fds: int | None
    affinity: frozenset[int] | None
    nice: int | None

    @classmethod
    def read(cls, pid: int) -> _Health:
        try:
            fds: int | None = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            fds = None  # not ours to list (a grader that is not root; the zygote is undumpable)
        try:
            affinity: frozenset[int] | None = frozenset(os.sched_getaffinity(pid))
        except OSError:
            affinity = None
        try:
            nice: int | None = os.getpriority(os.PRIO_PROCESS, pid)
        except OSError:
            nice = None
        return cls({n: _rlimit(pid, r) for n, r in _RLIMITS.items()}, fds, affinity, nice)

    def compare(self, now: _Health) -> str | None:
        """The differences from ``self`` to ``now``, one clause each; None when there are none."""
        changed = [
            f"{name} {_limit_text(was)} -> {_limit_text(now.limits.get(name))}"
            for name, was in self.limits.items()
            if was is not None and now.limits.get(name) != was
        ]
        if self.fds is not None and now.fds is not None and now.fds > self.fds + _FDS_IN_TRANSIT:
            changed.append(f"open descriptors {self.fds} -> {now.fds}")
        if self.affinity is not None and now.affinity != self.affinity:
            changed.append(f"CPU affinity {sorted(self.affinity)} -> {sorted(now.affinity or ())}")
        if self.nice is not None and now.nice != self.nice:
            changed.append(f"nice {self.nice} -> {now.nice}")
        return "the zygote's " + "; ".join(changed) if changed else None


def _rlimit(pid: int, which: int) -> tuple[int, int] | None:
    try:
        return resource.prlimit(pid, which)  # read only: no new limit given
    except (OSError, ValueError):
        return None


def _limit_text(limit: tuple[int, int] | None) -> str:
    if limit is None:
        return "unreadable"
    soft, hard = ("unlimited" if v == resource.RLIM_INFINITY else str(v) for v in limit)
    return f"{soft}/{hard}"


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie, or reaped), as far as /proc shows."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"Z", b"X")


def _widen(fd: int, size: int = 1 << 20) -> None:
    """Give a pipe a 1 MiB buffer (the unprivileged maximum by default) instead of 64 KiB, so a
    worker writing a task's results rarely waits for the grader to read; best effort."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, AttributeError):
        pass


def _write_all(fd: int, payload: bytes) -> None:
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view[: 1 << 20])
            view = view[written:]
    except OSError:
        pass  # the child died or closed its end: its exit tells the story
    finally:
        os.close(fd)


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
