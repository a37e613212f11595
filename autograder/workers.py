"""Trusted side of the worker boundary: start a warm zygote, run one request in a fresh child.

``Zygote`` starts ``autograder.worker.zygote`` once (paying for ``import torch`` once) with a
minimal environment. ``Zygote.run`` forks a child for one request and supervises it: a wall-clock
deadline per task and per request, enforced here with ``select`` on pipes the child cannot block,
a cap on result and output bytes, and SIGKILL of the child's whole process group on timeout. The
zygote (a subreaper) kills and reaps whatever the child left behind before it reports the exit.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from autograder import wire
from autograder.errors import AutograderError, WorkerProtocolError
from autograder.sandbox import Slot, protect_grader

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[2]); "
    "from autograder.worker.zygote import main; main(int(sys.argv[1]))"
)


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
        return self

    def _sandbox_start(self) -> tuple[list[str], dict[str, str]]:
        """The zygote's wrapper and extra environment; the grader becomes non-dumpable."""
        protect_grader()
        if self.slot is None:
            return self._wrapper, {}
        return self._wrapper or self.slot.wrapper(), self.slot.env()

    def close(self) -> None:
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
            raise AutograderError("the worker process exited unexpectedly")
        return json.loads(data)

    def preload(self, bundle: wire.Bundle) -> None:
        """Hand ``bundle`` to the zygote once; every later child inherits it."""
        if bundle.key in self._bundles:
            return
        if self._sock is None:
            self.start()
        assert self._sock is not None
        read_end, write_end = os.pipe()
        try:
            socket.send_fds(self._sock, [f"bundle {bundle.key}".encode()], [read_end])
        except OSError as exc:
            os.close(write_end)
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        finally:
            os.close(read_end)
        _write_all(write_end, bundle.blob)  # the zygote reads as we write; closes write_end
        reply = self._control(120)
        if not reply or reply.get("bundle") != bundle.key:
            raise AutograderError("the worker process could not take the grading inputs")
        self._bundles.add(bundle.key)

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
    ) -> RunResult:
        """Fork a child, send it the request, and collect frames under deadlines.

        ``import_seconds`` bounds the import of the submission (from the bootstrap's hello frame
        to the import frame); ``task_seconds`` each task; ``total_seconds`` the whole run.
        ``bundles`` are preloaded into the zygote (once each) and reach the child by key; their
        tensors join ``tensors``.
        """
        if self._sock is None:
            self.start()
        for bundle in bundles:
            self.preload(bundle)
        if bundles:
            request = {**request, "bundles": [b.key for b in bundles]}
        # encoded before the fork: the child should not wait for it
        payload = wire.encode(request, tensors)
        assert self._sock is not None
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            socket.send_fds(self._sock, [b"fork"], [req_r, res_w, out_w])
        except OSError as exc:
            for fd in (req_r, res_w, out_w, req_w, res_r, out_r):
                os.close(fd)
            raise AutograderError(f"the worker process exited unexpectedly ({exc})") from None
        for fd in (req_r, res_w, out_w):
            os.close(fd)
        reply = self._control(30)
        if not reply or "forked" not in reply:
            for fd in (req_w, res_r, out_r):
                os.close(fd)
            return RunResult(ending="no start", detail="the worker could not be forked")
        pid = int(reply["forked"])
        if self.slot is not None:
            # before the request is written: the child runs nothing of the student's yet
            try:
                self.slot.admit(pid, request.get("confine") or {})
            except AutograderError:
                for fd in (req_w, res_r, out_r):
                    os.close(fd)
                raise
        started = time.monotonic()
        writer = threading.Thread(target=_write_all, args=(req_w, payload), daemon=True)
        writer.start()
        result = self._supervise(
            pid,
            res_r,
            out_r,
            task_seconds,
            total_seconds,
            max_result_bytes,
            output_cap,
            import_seconds,
        )
        writer.join(timeout=5)
        result.seconds = time.monotonic() - started
        if self.slot is not None:
            self.slot.release(result)  # cgroup OOM -> ending "memory"; kill-all; cleanup
        return result

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
    ) -> RunResult:
        result = RunResult()
        importing = False
        reader = wire.FrameReader(max_result_bytes)
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
            events = sel.select(timeout=min(deadline - now, 1.0))
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
                try:
                    frames = reader.feed(data)
                except WorkerProtocolError as exc:
                    result.ending, result.detail = "protocol", str(exc)
                    _kill_group(pid)
                    killed = True
                    finished = True
                    break
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
                    elif kind == "task_end":
                        result.current_task = None
                        task_deadline = None
                    result.frames.append((header, tensors))
                    if kind in ("done", "worker_error"):
                        finished = True
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
        status = self._wait_exit(pid)
        result.exit_status = status
        if status is not None and result.ending in ("done", "crashed"):
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
                result.ending, result.detail = "cpu", "CPU time limit exceeded"
            elif result.ending == "crashed":
                result.detail = describe_status(status)
        result.output_head, result.output_tail = bytes(output.head), bytes(output.tail)
        return result

    def _wait_exit(self, pid: int) -> int | None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = self._control(deadline - time.monotonic())
            if msg is None:
                return None
            if msg.get("exit") == pid:
                return int(msg["status"])
        return None


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
