"""The zygote: a warm process that has imported torch and forks one worker per submission.

It never imports student code and holds no secrets (no reference outputs, no test labels, no
grader code beyond the worker's), so a forked child starts in milliseconds with torch already
loaded and nothing worth stealing. It keeps the grader's input bundles (the plan's input
tensors, the benchmark's images: what every child receives anyway) decoded, and the runtime
guard's watch lists built, so a run's request names them instead of carrying megabytes through
a pipe and each child rebuilding them. It never runs a torch op, so no intra-op thread pool
exists at fork time (a pool does not survive fork); each child sets its own thread count.

Control protocol on an AF_UNIX SOCK_SEQPACKET socket from the grader:
  grader -> zygote: ``fork`` with three fds (request read end, result write end, output write end)
  zygote -> grader: ``{"forked": pid}``, later ``{"exit": pid, "status": wait_status}`` once the
  child and everything it left behind are dead and reaped.
  grader -> zygote: ``bundle <key>`` with one fd (a pipe's read end) that delivers a safetensors
  blob until EOF; zygote -> grader: ``{"bundle": key}`` once it is decoded and stored.
  grader -> zygote: ``guards <JSON list of forbid lists>``; zygote -> grader: ``{"guards": n}``
  once the runtime guard's watch list for each is built.
  grader -> zygote: ``quit``.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import sys
import time

from autograder.tempdirs import empty_dir

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4

MADV_COLLAPSE = 25  # Linux 6.1+
HUGE = 1 << 21
# forks before the zygote backs its memory with huge pages: a `check` forks at most four
# (reference, spare, submission, spare), so only a batch pays the one-off collapse
COLLAPSE_AFTER_FORKS = 8

# key -> input tensors, decoded once here and inherited by every child forked after they
# arrived (copy-on-write: what a child does to them stays in that child)
BUNDLES: dict[str, dict] = {}


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _children(me: int) -> list[int]:
    """Our child processes, orphans re-parented to us included."""
    try:
        # the kernel's own list (CONFIG_PROC_CHILDREN): no scan of every process on the machine
        kids = set()
        for tid in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{tid}/children", "rb") as f:
                kids.update(int(pid) for pid in f.read().split())
        return sorted(kids)
    except (OSError, ValueError):
        pass
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            kids.append(int(entry))
    return kids


def _kill_leftovers(me: int, deadline: float, keep: set[int] = frozenset()) -> None:
    """SIGKILL and reap everything re-parented to us (we are the subreaper), until none remain.

    ``keep`` are our own live children (a spare forked for the next run): not leftovers.
    """
    while time.monotonic() < deadline:
        kids = [pid for pid in _children(me) if pid not in keep]
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in kids:
            try:
                os.waitpid(pid, os.WNOHANG)  # only these: an active child's exit is reported
            except ChildProcessError:
                pass
        time.sleep(0.002)


def _empty_scratch(root: str | None) -> None:
    """Delete everything a worker left in the scratch root, so the next one starts clean.

    Whatever its shape (thousands of levels, folders chmod-ed 000, symlink loops): the deletion
    loops instead of recursing and never follows a link (``tempdirs.empty_dir``).
    """
    if root:
        empty_dir(root)


def _preload() -> None:
    """Import what every worker needs, without running any torch op."""
    import numpy  # noqa: F401
    import torch
    import torch._dynamo  # noqa: F401 - torch.optim imports it on the first step (~2 s)
    import torch.nn.functional  # noqa: F401
    import torch.optim  # noqa: F401

    import autograder.sandbox.layers  # noqa: F401
    import autograder.untrusted.child  # noqa: F401
    import autograder.untrusted.recipes  # noqa: F401
    from autograder.untrusted.guard import warm_names

    warm_names()
    # torch reads /proc and /sys on its first use of cpuinfo, lazily; a child's first float16
    # op would do it after Landlock has closed those ("Failed to initialize cpuinfo!").
    # Initialised here it is inherited; it starts no thread.
    torch.backends.cpu.get_cpu_capability()


def collapse_hugepages(budget_s: float = 2.0) -> int:
    """Back our densely used anonymous memory with 2 MiB pages; returns the bytes collapsed.

    ``import torch`` (this CUDA build) leaves about 370 MB of anonymous memory, and fork copies
    a page-table entry for every 4 KiB of it: about 8 ms of CPU per fork, and more again when
    the child's address space is torn down. Mapped with 2 MiB pages, fork copies 1/512 as many
    entries (measured here: fork plus teardown 11.8 -> 3.8 ms). The collapse (MADV_COLLAPSE,
    synchronous) costs about 0.5 s once and preserves the contents. Only 2 MiB ranges that are
    at least half resident are collapsed, so sparse reservations do not grow (the zygote grew
    by about 2 MB). A kernel without MADV_COLLAPSE or with THP disabled refuses each call: a
    no-op.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
        with open("/proc/self/maps") as f:
            maps = f.read().splitlines()
    except (OSError, AttributeError):
        return 0
    page = os.sysconf("SC_PAGE_SIZE")
    deadline = time.monotonic() + budget_s
    done = 0
    vec = ctypes.create_string_buffer(HUGE // page)
    for line in maps:
        fields = line.split()
        # private anonymous memory (the heap included): the bulk of what fork copies page by
        # page; the libraries' own written pages are a few MB and are left as they are
        private_rw = fields[1].startswith("rw") and fields[1][3] == "p"
        if not private_rw or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        low, high = (int(v, 16) for v in fields[0].split("-"))
        for start in range((low + HUGE - 1) // HUGE * HUGE, high // HUGE * HUGE, HUGE):
            if time.monotonic() > deadline:
                return done
            if libc.mincore(start, HUGE, vec) != 0:
                continue
            if sum(b & 1 for b in vec.raw) * 2 < len(vec.raw):
                continue
            # refused (EINVAL) by a kernel without MADV_COLLAPSE or with THP off, and for
            # ranges it cannot collapse: each refusal costs microseconds, so go on
            if libc.madvise(start, HUGE, MADV_COLLAPSE) == 0:
                done += HUGE
    return done


def _decode_bundle(blob: bytes) -> dict:
    """Tensors over their own copies of the data; creating them runs no torch op (no thread
    pool starts here)."""
    from safetensors.torch import load

    return load(blob) if blob else {}


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _start_child(conn: socket.socket, fds: list[int]) -> int:
    request_fd, result_fd, output_fd = fds
    pid = os.fork()
    if pid == 0:
        try:
            conn.close()
            os.setsid()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(output_fd, 1)
            os.dup2(output_fd, 2)
            for fd in (devnull, output_fd):
                os.close(fd)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            sys.stdout = open(
                1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False
            )
            sys.stderr = open(
                2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False
            )
            from autograder.untrusted.child import main as child_main

            child_main(request_fd, result_fd, BUNDLES)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    return pid


def main(control_fd: int) -> None:
    me = os.getpid()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(
        PR_SET_DUMPABLE, 0
    )  # workers share our uid without a sandbox uid: no ptrace, no /proc/<us>/mem
    scratch_root = os.environ.pop("AUTOGRADER_SCRATCH_ROOT", None)
    scratch_mb = os.environ.pop("AUTOGRADER_SCRATCH_MB", None)
    if scratch_root and scratch_mb:
        # Before anything starts a thread (unshare refuses then). A cap asked for and not
        # obtained is an error, never a silent downgrade: the grader reports it.
        from autograder.sandbox.scratch import mount_private_tmpfs

        why = mount_private_tmpfs(scratch_root, int(scratch_mb))
        if why:
            sys.stderr.write(f"cannot cap scratch: {why}\n")
            os._exit(3)
    # No PDEATHSIG here: it fires when the *thread* that started us exits, and graders start
    # zygotes from pool threads. The control socket's EOF tells us the grader is gone.
    conn = socket.socket(fileno=control_fd)
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    active: set[int] = set()
    forks = 0
    conn.send(json.dumps({"ready": me}).encode())
    while True:
        readable, _, _ = select.select([conn, wake_r], [], [], 1.0)
        if wake_r in readable:
            os.read(wake_r, 4096)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in active:
                active.discard(pid)
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                _kill_leftovers(me, time.monotonic() + 5.0, keep=active)
                _empty_scratch(scratch_root)
                conn.send(json.dumps({"exit": pid, "status": status}).encode())
        if conn in readable:
            try:
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
            except OSError:
                msg, fds = b"", []
            if not msg or msg == b"quit":
                break
            if msg.startswith(b"bundle ") and len(fds) == 1:
                key = msg[len(b"bundle ") :].decode("ascii", "replace")
                try:
                    BUNDLES[key] = _decode_bundle(_read_all(fds[0]))
                    reply = {"bundle": key}
                except Exception as exc:  # noqa: BLE001 - the grader reports it; we go on
                    reply = {"bundle": None, "error": repr(exc)[:500]}
                conn.send(json.dumps(reply).encode())
            elif msg.startswith(b"guards ") and not fds:
                from autograder.untrusted.guard import prepare

                try:
                    lists = json.loads(msg[len(b"guards ") :])
                    for forbid in lists:
                        prepare(forbid)
                    reply = {"guards": len(lists)}
                except Exception as exc:  # noqa: BLE001 - the grader reports it; we go on
                    reply = {"guards": -1, "error": repr(exc)[:500]}
                conn.send(json.dumps(reply).encode())
            elif msg == b"fork" and len(fds) == 3:
                pid = _start_child(conn, fds)
                active.add(pid)
                conn.send(json.dumps({"forked": pid}).encode())
                forks += 1
                if forks == COLLAPSE_AFTER_FORKS:
                    # now, while the child just forked waits for or runs its request
                    collapse_hugepages()
            else:
                for fd in fds:
                    os.close(fd)
    for pid in active:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _kill_leftovers(me, time.monotonic() + 2.0)
    # Nothing to flush or save: skip the interpreter's teardown of torch (about 1 s on 2 cores),
    # which every ``Grader`` exit and every ``autograder check`` would otherwise wait for.
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]))
