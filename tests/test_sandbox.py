"""Isolation: hostile submissions run through a real worker, outcomes checked from outside.

Each level forces layers off with ``AUTOGRADER_SANDBOX_DISABLE`` and grades the attacks that the
remaining layers must contain; after every attack an honest submission must still be graded
right by the same warm worker. Every attack is bounded by itself (see tests/hostile/README.md).
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from rich.console import Console
from worker_request import sigmoid_request

from autograder import sandbox
from autograder.errors import AutograderError, SandboxError
from autograder.sandbox import cgroups, landlock, seccomp
from autograder.sandbox.capabilities import DISABLE_ENV, probe
from autograder.spec.models import Limits
from autograder.trusted.supervisor import RunResult, Zygote

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[1]
LIMITS = Limits(task_seconds=3, submission_seconds=20, memory_mb=512, processes=16, scratch_mb=16)
X = torch.linspace(-3, 3, 12).reshape(3, 4)
LEVELS = {
    "strong": "",
    "no-bwrap": "bwrap",
    "no-landlock-seccomp": "landlock,seccomp",
    "rlimits-only": "bwrap,scratch,landlock,seccomp,uid,cgroup",
}


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, real uid) for every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                lines = Path(f"/proc/{entry}/status").read_text().splitlines()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in lines if ":" in line)
            found[int(entry)] = (int(fields["PPid"]), int(fields["Uid"].split()[0]))
    return found


def descendants(pid: int) -> list[int]:
    table = _processes()
    kids, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _) in table.items():
            if ppid == parent:
                kids.append(child)
                frontier.append(child)
    return kids


class Box:
    """A slot and its warm zygote at one isolation level."""

    def __init__(self, caps: sandbox.Capabilities, tmp: Path, limits: Limits = LIMITS) -> None:
        self.caps = caps
        self.tmp = tmp
        self.limits = limits
        self.slot = sandbox.Slot(caps, scratch_mb=limits.scratch_mb, insecure=True)
        self.zygote = Zygote(threads=1, slot=self.slot).start()
        self.runs = 0
        self.broken = ""  # why the last run left the zygote unable to go on, if it did

    def run(
        self,
        name: str,
        *,
        total: float = 20,
        task: float = LIMITS.task_seconds,
        task_cpu: float | None = None,
        may_break_zygote: bool = False,
        **subs: object,
    ) -> RunResult:
        text = (HOSTILE / name).read_text()
        for key, value in subs.items():
            text = text.replace(f"__{key}__", str(value))
        self.runs += 1
        source = self.tmp / f"run{self.runs}" / "hw1.py"
        source.parent.mkdir()
        source.write_text(text)
        prepared = self.slot.prepare(self.limits, source)
        request = sigmoid_request(prepared.path, prepared.confine)
        result = self.zygote.run(
            request,
            {"x": X},
            task_seconds={"a": task},
            total_seconds=total,
            task_cpu_seconds={"a": task_cpu} if task_cpu is not None else None,
        )
        assert result.settled.wait(30)
        try:
            self.zygote.join_housekeeping()
        except AutograderError as exc:
            if not may_break_zygote:
                raise
            self.broken = str(exc)  # the zygote could not even fork the next child
            return result
        self.assert_nothing_left()
        return result

    def assert_nothing_left(self) -> None:
        # the spare is forked after the run ended and has run nothing but the worker's code
        left = [p for p in descendants(self.zygote.pid) if p != self.zygote.spare_pid]
        assert left == [], "a process of the submission survived its run"
        if self.slot.sandbox_uid is not None:
            assert [p for p, (_, uid) in _processes().items() if uid == self.slot.sandbox_uid] == []
        assert not any(self.slot.scratch_root.iterdir())
        if self.slot.private_scratch:  # a tmpfs in the zygote's own mount namespace
            inside = Path(f"/proc/{self.zygote.pid}/root") / str(self.slot.scratch_root).lstrip("/")
            assert list(inside.iterdir()) == [], "scratch was not emptied inside the sandbox"

    def assert_honest_graded(self) -> None:
        result = self.run("honest.py")
        probes = [(h, t) for h, t in result.frames if h.get("type") == "probe"]
        assert result.ending == "done", (result.ending, result.detail, result.output_text[-500:])
        assert probes and probes[0][0]["status"] == "ok"
        torch.testing.assert_close(probes[0][1]["out"], torch.sigmoid(X))
        # the worker applied exactly the layers the probe promised
        applied = " ".join(result.frames[0][0]["layers"])
        for layer, mark in (
            ("landlock", "landlock(fs"),
            ("seccomp", "seccomp"),
            ("sandbox-uid", "uid"),
        ):
            assert (mark in applied) == self.caps.active(layer), (layer, applied)

    def replace_zygote(self) -> None:
        """A fresh zygote in the same slot, as the engine does when one reports a problem."""
        self.zygote.close()
        self.zygote = Zygote(threads=1, slot=self.slot).start()

    def close(self) -> None:
        self.zygote.close()
        self.slot.close()


def _probe_status(result: RunResult) -> tuple[str, str]:
    for header, _ in result.frames:
        if header.get("type") == "probe":
            return header["status"], header.get("message", "")
    return "", ""


ALL = list(LEVELS)
# Attacks whose containment does not depend on the file/network layers run at two levels only.
ENDS = ["strong", "rlimits-only"]


@pytest.fixture(scope="module")
def box(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DISABLE_ENV, LEVELS[request.param])
        caps = probe()
    made = Box(caps, tmp_path_factory.mktemp(request.param))
    yield made
    made.close()


def _need(condition: bool, why: str) -> None:
    if not condition:
        pytest.skip(why)


def _fs_isolated(box: Box) -> bool:
    return sandbox.summary.filesystem_isolated(box.caps)


# -- attacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_reference_stays_unreadable(box: Box) -> None:
    _need(_fs_isolated(box), "no filesystem isolation at this level (a known gap)")
    secret_dir = box.tmp / "reference_solutions"
    secret_dir.mkdir(exist_ok=True)
    canary = f"CANARY-{secrets.token_hex(8)}"
    (secret_dir / "hw1_ref.py").write_text(f"ANSWER = '{canary}'\n")
    (secret_dir / "hw1_ref.py").chmod(0o644)  # even world-readable: only the allow-list counts
    result = box.run("read_reference.py", SECRET=secret_dir / "hw1_ref.py")
    assert "walked" in result.output_text
    assert canary not in result.output_text and "LEAK" not in result.output_text
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_network_is_unreachable(box: Box) -> None:
    _need(sandbox.summary.network_isolated(box.caps), "no network isolation at this level")
    tcp = socket.create_server(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    received: list[bytes] = []

    def listen() -> None:
        tcp.settimeout(0.2)
        udp.settimeout(0.2)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not stop.is_set():
            for sock in (tcp, udp):
                try:
                    if sock is tcp:
                        conn, _ = tcp.accept()
                        received.append(conn.recv(100) or b"<connected>")
                        conn.close()
                    else:
                        received.append(udp.recv(100))
                except OSError:
                    pass

    stop = threading.Event()
    listener = threading.Thread(target=listen)
    listener.start()
    try:
        result = box.run("network.py", PORT=port)
    finally:
        stop.set()
        listener.join()
        tcp.close()
        udp.close()
    assert received == []  # from outside: nothing arrived, over TCP or UDP
    assert "tcp: blocked" in result.output_text
    if box.caps.active("seccomp"):
        assert "udp: blocked" in result.output_text  # else UDP goes to bwrap's private loopback
    box.assert_honest_graded()


def _listing(folders: list[Path]) -> dict[Path, set[str]]:
    found = {}
    for folder in folders:
        try:
            found[folder] = set(os.listdir(folder))
        except OSError:
            pass
    return found


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_no_pth_or_files_outside_scratch(box: Box) -> None:
    _need(_fs_isolated(box), "no filesystem isolation at this level (a known gap)")
    import site

    extra = box.tmp / "grader-owned"
    extra.mkdir(exist_ok=True)
    folders = [Path(p) for p in {*sys.path, *site.getsitepackages()} if p and os.path.isdir(p)]
    folders += [
        Path("/tmp"),
        Path("/var/tmp"),
        Path("/dev/shm"),
        Path.home(),
        extra,
        Path(__file__).parent.parent,
    ]
    before = _listing(folders)
    try:
        result = box.run("plant_pth.py", EXTRA=extra)
        after = _listing(folders)
        assert "WROTE" not in result.output_text
        assert {f: after[f] - before[f] for f in before if after.get(f, set()) - before[f]} == {}
    finally:
        for folder in folders:  # if isolation ever regresses, do not leave a poisoned venv behind
            for name in ("zz_hostile.pth", "hostile_note.txt"):
                (folder / name).unlink(missing_ok=True)
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_fork_bomb_with_setsid_is_capped_and_killed(box: Box) -> None:
    start = time.monotonic()
    # the sleepers sleep 30 s: the run must end at its own deadline, never wait for them (a
    # deadline of 15 s, not 5: forking copies of a torch process takes seconds under load)
    result = box.run("fork_bomb.py", total=15)
    assert time.monotonic() - start < 28
    made = sum(
        int(line.split()[-1]) for line in result.output_text.splitlines() if " made " in line
    )
    assert made >= 3 and result.ending == "done"
    if sandbox.processes_bounded(box.caps):
        assert "fork refused" in result.output_text
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_memory_growth_is_reported(box: Box) -> None:
    # 0.7 s of CPU; on a loaded machine several seconds of wall time
    result = box.run("memory_growth.py", task=20)
    held = [
        int(line.split()[1])
        for line in result.output_text.splitlines()
        if line.startswith("holding")
    ]
    assert max(held, default=0) <= LIMITS.memory_mb + 1024 + 64
    if box.caps.active("cgroup"):
        assert result.ending == "memory"
        assert result.detail == f"memory limit exceeded ({LIMITS.memory_mb} MB)"
        assert max(held) <= LIMITS.memory_mb
    else:
        status, message = _probe_status(result)
        assert result.ending == "done"
        assert status in ("error", "memory limit exceeded") and (
            "memory" in message.lower() or "Errno 12" in message
        )
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_disk_filling_stays_in_scratch(box: Box) -> None:
    result = box.run("disk_fill.py")
    wrote = next(
        int(line.split()[1]) for line in result.output_text.splitlines() if line.startswith("wrote")
    )
    if box.slot.private_scratch:  # bubblewrap's tmpfs, or the zygote's own (root)
        assert wrote <= LIMITS.scratch_mb and "No space left" in result.output_text
    else:
        assert wrote <= 256  # the known gap: only each file is capped (RLIMIT_FSIZE)
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ENDS, indirect=True)
def test_sigterm_ignoring_loop_times_out(box: Box) -> None:
    start = time.monotonic()
    result = box.run("ignore_sigterm.py", task=1.5)
    assert result.ending == "timeout" and "1.5 s" in result.detail
    assert time.monotonic() - start < 1.5 + 5
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ENDS, indirect=True)
def test_segfault_is_a_crash(box: Box) -> None:
    result = box.run("segfault.py")
    assert result.ending == "crashed" and "SIGSEGV" in result.detail
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ENDS, indirect=True)
def test_stdout_flood_is_capped(box: Box) -> None:
    result = box.run("stdout_flood.py")
    assert result.ending == "done" and _probe_status(result)[0] == "ok"
    assert len(result.output_head) + len(result.output_tail) <= 2 * 32 * 1024
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ENDS, indirect=True)
def test_torch_patches_die_with_the_submission(box: Box) -> None:
    result = box.run("torch_patcher.py")
    assert result.ending == "done"
    assert torch.exp(torch.zeros(1)).item() == 1.0  # the grader's torch is its own
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_daemon_does_not_outlive_its_run(box: Box) -> None:
    beacon = box.tmp / "beacon.txt"
    start = time.monotonic()
    result = box.run("daemon.py", BEACON=beacon)
    assert result.ending == "done" and time.monotonic() - start < 10  # never waits for EOF
    daemon_pid = int(result.output_text.split("DAEMON ")[1].split()[0])
    assert not Path(f"/proc/{daemon_pid}").exists() or daemon_pid not in _processes()
    size = beacon.stat().st_size if beacon.exists() else 0
    time.sleep(0.5)
    assert (beacon.stat().st_size if beacon.exists() else 0) == size
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_grader_and_zygote_cannot_be_attacked(box: Box) -> None:
    _need(
        sandbox.summary.grader_protected(box.caps), "the worker may signal the grader at this level"
    )
    result = box.run("attack_grader.py", GRADER_PID=os.getpid())
    for what in ("environ", "mem", "kill", "kill-grader"):
        assert f"{what}: blocked" in result.output_text
    box.assert_honest_graded()


# Every way into the other processes that ``reach_grader.py`` tries.
REACH_ATTACKS = (
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "prlimit-zygote-NOFILE",
    "prlimit-zygote-AS",
    "prlimit-grader-CPU",
    "prlimit-grader-NOFILE",
    "prlimit-grader-AS",
    "sched_setaffinity",
    "setpriority",
    "setpriority-user",
    "ioprio_set",
    "migrate_pages",
    "move_pages",
    "get_robust_list",
    "kcmp",
    "process_vm_readv",
    "kill-all",
    "f_setown",
)

# Without seccomp these succeed under a sandbox uid, and still act on nothing but the worker's
# own uid: a pidfd grants no access by itself (every use is checked against the uid), kill(-1)
# signals only the slot's own uid, F_SETOWN's SIGIO is checked against the owner's uid, and
# setpriority(PRIO_USER, 0) renices only the caller's own uid (the slot's).
_HARMLESS_ACROSS_UIDS = frozenset({"pidfd_open", "kill-all", "f_setown", "setpriority-user"})


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_same_uid_calls_cannot_reach_the_grader_zygote_or_lanes(box: Box) -> None:
    protected = sandbox.summary.grader_protected(box.caps)
    result = box.run("reach_grader.py", GRADER_PID=os.getpid(), may_break_zygote=not protected)
    assert result.ending == "done" and _probe_status(result)[0] == "ok"
    if protected:
        for attack in REACH_ATTACKS:
            if attack in _HARMLESS_ACROSS_UIDS and not box.caps.active("seccomp"):
                continue  # a sandbox uid alone: the call succeeds and reaches nothing of ours
            assert f"{attack}: blocked" in result.output_text, (attack, result.output_text)
        assert "scan reached 0 processes" in result.output_text
        assert box.zygote.health_problem() is None
        box.assert_honest_graded()  # the next student on the same zygote: full result
        return
    # A level the doctor does not call strong: the zygote was clamped, and it says so (the
    # engine replaces such a zygote before the next student), or it could not even fork the
    # next child (a grader-side failure, retried on a fresh zygote).
    assert "prlimit-zygote-NOFILE: DONE" in result.output_text
    problem = box.zygote.health_problem()
    assert problem is not None, box.broken
    assert "has exited" in problem or ("RLIMIT_NOFILE" in problem and "RLIMIT_AS" in problem)
    box.replace_zygote()
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_a_5000_level_tree_with_locked_folders_and_links_is_removed(box: Box) -> None:
    outside = box.tmp / "outside-target.txt"
    outside.write_text("keep me")
    # Landlock checks every level of a path: the tree costs its author seconds of CPU
    result = box.run("deep_tree.py", OUTSIDE=outside, total=120, task=120)
    assert "built 5000 levels" in result.output_text, result.output_text[-500:]
    assert result.ending == "done" and _probe_status(result)[0] == "ok"
    # Box.run checked that scratch is empty again; the link's target is untouched
    assert outside.read_text() == "keep me"
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_the_hosts_unix_sockets_are_unreachable(box: Box) -> None:
    _need(
        box.caps.active("bubblewrap") or box.caps.active("seccomp"),
        "neither bubblewrap nor seccomp: the host's unix sockets are a known gap at this level",
    )
    # a service owned by the grader's user (root in CI), open to everyone: only a layer stops it
    folder = Path(tempfile.mkdtemp(prefix="ag-host-sock-"))
    folder.chmod(0o755)
    stream_path, dgram_path = folder / "service.sock", folder / "log.sock"
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.bind(str(stream_path))
    stream.listen(4)
    dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dgram.bind(str(dgram_path))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + str(stream_path))
    abstract.listen(4)
    for path in (stream_path, dgram_path):
        path.chmod(0o777)
    try:
        result = box.run("unix_socket.py", STREAM_PATH=stream_path, DGRAM_PATH=dgram_path)
        received = []
        for sock in (stream, dgram, abstract):
            sock.setblocking(False)
            try:
                if sock.type == socket.SOCK_STREAM:
                    conn, _ = sock.accept()
                    received.append(conn.recv(100) or b"<connected>")
                    conn.close()
                else:
                    received.append(sock.recv(100))
            except OSError:
                pass
    finally:
        for sock in (stream, dgram, abstract):
            sock.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert received == []  # from outside: nothing connected, nothing arrived
    for what in ("stream", "dgram", "pair-dgram", "abstract"):
        assert f"{what}: blocked" in result.output_text, (what, result.output_text)
    assert "socketpair: ping" in result.output_text  # what multiprocessing uses still works
    box.assert_honest_graded()


def test_a_clamped_zygote_reports_its_problem() -> None:
    """What an attacker that reached the zygote would do, done from the test: the zygote says
    what changed, so the engine can replace it before it grades anyone."""
    import resource

    with Zygote(threads=1) as zygote:
        assert zygote.health_problem() is None
        soft, hard = resource.prlimit(zygote.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(zygote.pid, resource.RLIMIT_NOFILE, (16, hard))
        problem = zygote.health_problem()
        assert problem is not None and f"RLIMIT_NOFILE {soft}/" in problem
        assert "-> 16/" in problem
        resource.prlimit(zygote.pid, resource.RLIMIT_AS, (64 << 20, resource.RLIM_INFINITY))
        problem = zygote.health_problem()
        assert "RLIMIT_NOFILE" in problem and f"RLIMIT_AS unlimited/unlimited -> {64 << 20}/" in (
            problem
        )
    with Zygote(threads=1) as zygote:
        nice = os.getpriority(os.PRIO_PROCESS, zygote.pid)
        cpus = os.sched_getaffinity(zygote.pid)
        os.sched_setaffinity(zygote.pid, {min(cpus)})
        if nice < 19:  # only root may lower it again: raise it by one
            os.setpriority(os.PRIO_PROCESS, zygote.pid, nice + 1)
        problem = zygote.health_problem() or ""
        assert (f"nice {nice} -> {nice + 1}" in problem) == (nice < 19), problem
        assert ("CPU affinity" in problem) == (len(cpus) > 1), problem


def test_cpu_time_is_recorded_and_a_cpu_budget_ends_the_task(tmp_path: Path) -> None:
    box = Box(probe(), tmp_path)
    try:
        result = box.run("busy_honest.py", task=30, total=30)  # 0.5 s of CPU, any wall time
        assert result.ending == "done" and _probe_status(result)[0] == "ok"
        # CPU time is read in clock ticks (10 ms), so it may pass the wall time by a tick
        assert (
            result.cpu_seconds is not None
            and 0.4 <= result.cpu_seconds <= result.wall_seconds + 0.02
        )
        assert 0.4 <= result.task_cpu_seconds["a"] <= result.cpu_seconds
        # the wall-clock bound is the safety net; the CPU budget decides
        result = box.run("busy_honest.py", task_cpu=0.2, task=30, total=30)
        assert result.ending == "cpu" and "0.2 s of CPU time" in result.detail
        assert 0.2 <= result.task_cpu_seconds["a"] < 0.5
        box.assert_honest_graded()
    finally:
        box.close()


def test_busy_processes_in_one_lane_do_not_cost_the_other_lane_its_budget(tmp_path: Path) -> None:
    """Sixty spinning processes of one submission, and on the other lane a submission whose
    task needs half a second of CPU: charged in its own CPU time, it keeps its budget however
    slow the machine is; the hogs' cgroup (where there is a cpu controller) gets one CPU."""
    caps = probe()
    (tmp_path / "hogs").mkdir()
    (tmp_path / "honest").mkdir()
    hogs_box = Box(caps, tmp_path / "hogs", LIMITS.model_copy(update={"processes": 80}))
    honest_box = Box(caps, tmp_path / "honest")
    hogs: list[RunResult] = []
    try:
        attack = threading.Thread(
            target=lambda: hogs.append(hogs_box.run("cpu_hogs.py", total=90, task=90))
        )
        attack.start()
        # forking sixty copies of a torch process takes seconds on a loaded machine: start
        # once they all exist (they spin for 10 s from then)
        deadline = time.monotonic() + 60
        while len(descendants(hogs_box.zygote.pid)) < 61 and time.monotonic() < deadline:
            time.sleep(0.05)
        result = honest_box.run("busy_honest.py", task=60, total=60, task_cpu=2.0)
        attack.join()
    finally:
        hogs_box.close()
        honest_box.close()
    assert result.ending == "done" and _probe_status(result)[0] == "ok", result.detail
    assert result.cpu_seconds is not None and 0.4 <= result.task_cpu_seconds["a"] <= 2.0
    (hog,) = hogs
    assert "hogs 60" in hog.output_text, hog.output_text[-300:]
    assert hog.cpu_seconds is not None
    support = caps.cgroup
    # Without a cpu controller nothing caps the hogs, and whether the honest run is slowed
    # depends on how many CPUs the machine has (CI's has enough that it was not); either way
    # its budget was charged in its own CPU time, which the assertions above hold.
    if support is not None and support.cpu is not None:
        # one CPU's worth, however many processes: the quota of a one-thread run
        assert hog.cpu_seconds <= 1.1 * hog.wall_seconds + 0.5, (hog.cpu_seconds, hog.wall_seconds)


# -- probing, policy, reporting ---------------------------------------------------------------


def test_weakest_level_refuses_hidden_tasks_and_unbounded_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DISABLE_ENV, LEVELS["rlimits-only"])
    caps = probe()
    assert caps.active_names == ["hygiene", "rlimits"]
    allowed, why = sandbox.hidden_tasks_allowed(caps, insecure=False)
    assert not allowed and "--insecure" in why
    assert sandbox.hidden_tasks_allowed(caps, insecure=True)[0]
    summary = sandbox.isolation_summary(caps, insecure=True)
    assert summary["level"] == "none" and summary["insecure"] and summary["gaps"]
    if caps.root:
        with pytest.raises(SandboxError, match="fork bomb"):
            sandbox.Slot(caps).open()


_SECCOMP_TRIAL = """
import ctypes, errno, fcntl, json, os, resource, socket, sys, threading
sys.path.insert(0, sys.argv[1])
from autograder.sandbox import layers, seccomp
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
layers._no_new_privs()
seccomp.install(**json.loads(sys.argv[2]))
parent, out = os.getppid(), {}
def call(name, action):
    try:
        action()
        out[name] = "ok"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
def raw(*args):
    ctypes.set_errno(0)
    if libc.syscall(*[ctypes.c_long(a) for a in args]) < 0:
        raise OSError(ctypes.get_errno(), "")
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
def thread():
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
scratch = sys.argv[3]
call("getrlimit", lambda: resource.getrlimit(resource.RLIMIT_NOFILE))
call("setrlimit-self", lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
call("prlimit-self-0", lambda: resource.prlimit(0, resource.RLIMIT_NOFILE))
call("prlimit-parent", lambda: resource.prlimit(parent, resource.RLIMIT_NOFILE))
call("sched_setaffinity-self", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
call("sched_setaffinity-parent", lambda: os.sched_setaffinity(parent, os.sched_getaffinity(0)))
call("nice-self", lambda: os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0)))
call("nice-parent", lambda: os.setpriority(os.PRIO_PROCESS, parent, 19))
call("nice-user", lambda: raw(141, os.PRIO_USER, 0, 99))
call("pidfd_open", lambda: os.pidfd_open(parent))
call("kill-self-0", lambda: os.kill(os.getpid(), 0))
call("kill-all-0", lambda: os.kill(-1, 0))
call("fcntl-getfl", lambda: fcntl.fcntl(0, fcntl.F_GETFL))
call("fcntl-setown", lambda: fcntl.fcntl(0, fcntl.F_SETOWN, parent))
call("fork", fork)
call("thread", thread)
call("unix-stream", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close())
call("unix-dgram", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close())
call("socketpair", lambda: [s.close() for s in socket.socketpair()])
call("socketpair-dgram", lambda: [s.close() for s in socket.socketpair(type=socket.SOCK_DGRAM)])
call("connect", lambda: socket.socket(socket.AF_UNIX).connect("/nonexistent/sock"))
call("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
call("chmod", lambda: os.chmod(scratch, 0o700))
call("utime", lambda: os.utime(scratch))
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    "options",
    [{}, {"shares_uid": False, "host_sockets_hidden": True}],
    ids=["strict", "sandbox-uid-and-bubblewrap"],
)
def test_seccomp_refuses_what_acts_on_others_and_keeps_what_a_worker_needs(
    options: dict, tmp_path: Path
) -> None:
    _need(seccomp.supported(), "no seccomp syscall table for this architecture")
    import json

    done = subprocess.run(
        [sys.executable, "-c", _SECCOMP_TRIAL, str(REPO), json.dumps(options), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for call in (
        "getrlimit",
        "setrlimit-self",
        "prlimit-self-0",
        "sched_setaffinity-self",
        "nice-self",
        "kill-self-0",
        "fcntl-getfl",
        "fork",
        "thread",
        "unix-stream",
        "socketpair",
    ):
        assert out[call] == "ok", (call, out)
    for call in (
        "prlimit-parent",
        "sched_setaffinity-parent",
        "nice-parent",
        "nice-user",
        "pidfd_open",
        "kill-all-0",
        "fcntl-setown",
    ):
        assert out[call] == "EPERM", (call, out)
    assert out["inet"] == "EACCES"
    strict = not options
    for call in ("unix-dgram", "socketpair-dgram", "connect", "chmod", "utime"):
        assert (out[call] == "EPERM") == strict, (call, out)


def test_probe_matches_the_kernel() -> None:
    caps = probe()
    assert caps.landlock_abi == landlock.abi_version()
    assert caps.active("landlock") == (
        landlock.abi_version() >= 1 and DISABLE_ENV not in os.environ
    )
    assert caps.active("seccomp") == (seccomp.supported() and DISABLE_ENV not in os.environ)
    support, _ = cgroups.detect()
    assert caps.active("cgroup") == (support is not None)
    assert caps.active("sandbox-uid") <= caps.root


def test_doctor_tells_which_layers_are_active(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DISABLE_ENV, "landlock")
    report = sandbox.doctor()
    rows = {row["layer"]: row for row in report["layers"]}
    assert not rows["landlock"]["active"] and DISABLE_ENV in rows["landlock"]["why_not"]
    assert rows["rlimits"]["active"]
    out = io.StringIO()
    sandbox.render_doctor(report, Console(file=out, width=120))
    text = out.getvalue()
    assert "landlock" in text and "isolation level" in text and "hidden tasks" in text


def test_doctor_tries_to_reach_the_grader_and_strong_needs_it_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = sandbox.doctor()
    tried = report["grader_reach"]["tried"]
    caps = probe()
    if caps.active("seccomp") and caps.active("landlock") and caps.landlock_abi >= 6:
        assert set(tried) == {"prlimit", "pidfd", "signal"}
        assert all(row["refused"] for row in tried.values()), tried
    if report["summary"]["level"] == "strong":
        assert report["grader_reach"]["reachable"] == [] or caps.active("sandbox-uid")
    out = io.StringIO()
    sandbox.render_doctor(report, Console(file=out, width=120))
    assert "prlimit64 on the grader's pid" in out.getvalue() or not tried

    # without seccomp, a worker of the grader's own uid can clamp the grader's limits
    monkeypatch.setenv(DISABLE_ENV, "seccomp,uid")
    weaker = sandbox.doctor()
    reach = weaker["grader_reach"]
    if tried:
        assert reach["tried"]["prlimit"]["refused"] is False
        assert reach["tried"]["pidfd"]["refused"] is False
        assert "prlimit" in reach["reachable"]
    assert weaker["summary"]["level"] != "strong"
    assert any("can reach it through prlimit" in gap for gap in weaker["summary"]["gaps"])


def test_the_level_is_strong_only_when_every_way_into_the_grader_is_refused() -> None:
    def caps(refused: dict[str, bool], uid: bool = False) -> sandbox.Capabilities:
        names = {"hygiene", "rlimits", "landlock", "seccomp", "cgroup"} | (
            {"sandbox-uid"} if uid else set()
        )
        layers = tuple(sandbox.Layer(n, n in names, "") for n in sandbox.capabilities.LAYER_NAMES)
        return sandbox.Capabilities(layers, root=True, landlock_abi=7, grader_refused=refused)

    every = {"prlimit": True, "pidfd": True, "signal": True}
    assert sandbox.summary.level(caps(every)) == "strong"
    for way in every:
        assert sandbox.summary.level(caps({**every, way: False})) == "basic", way
    assert sandbox.summary.level(caps({})) == "basic"  # not tried: assume reachable
    assert sandbox.summary.level(caps({**every, "prlimit": False}, uid=True)) == "strong"


def test_doctor_command_runs_end_to_end() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout)
    assert {row["layer"] for row in report["layers"]} >= {
        "rlimits",
        "landlock",
        "seccomp",
        "bubblewrap",
        "cgroup",
    }
    batch = report["batch"]  # what `autograder batch` takes without --workers
    assert 1 <= batch["default_workers"] <= batch["usable_cores"]


def test_confine_settings_grant_only_runtime_and_submission(tmp_path: Path) -> None:
    student = tmp_path / "hw1.py"
    settings = sandbox.confine_settings(LIMITS, tmp_path / "scratch", student, [], False)
    assert settings["write"] == [str(tmp_path / "scratch"), "/dev/null"]
    assert str(student) in settings["read"]
    repo = str(Path(__file__).resolve().parent.parent)
    assert (
        repo not in settings["read"]
        and str(Path(repo) / "reference_solutions") not in settings["read"]
    )
    assert settings["processes"] == LIMITS.processes and settings["cpu_seconds"] == 20


def test_prepare_stages_bytes_or_a_file_readable_by_the_worker(tmp_path: Path) -> None:
    source = tmp_path / "hw1.py"
    source.write_bytes(b"from_file = 1\n")
    old_umask = os.umask(0o077)  # a TA's strict umask must not hide the copy from the worker
    try:
        with sandbox.Slot(probe(), insecure=True) as slot:
            from_bytes = Path(slot.prepare(LIMITS, "sub/hw1.py", b"from_bytes = 1\n").path)
            assert from_bytes.name == "hw1.py" and from_bytes.read_bytes() == b"from_bytes = 1\n"
            assert from_bytes.stat().st_mode & 0o777 == 0o644
            from_file = Path(slot.prepare(LIMITS, source).path)
            assert from_file.read_bytes() == b"from_file = 1\n"
            assert from_file.stat().st_mode & 0o777 == 0o644
            assert not from_bytes.exists()  # one staged submission at a time
    finally:
        os.umask(old_umask)


def test_cgroup_v2_layout_against_a_fake_tree(tmp_path: Path) -> None:
    """File plumbing of the v2 path only (this machine's memory and pids controllers are v1)."""
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.subtree_control").write_text("cpu\n")
    support = cgroups.Support(2, (root / cgroups.BASE,))
    (root / cgroups.BASE).mkdir()
    (root / cgroups.BASE / "cgroup.subtree_control").write_text("")
    group = cgroups.RunGroup.__new__(cgroups.RunGroup)
    group.support, group.dirs = support, (root / cgroups.BASE / "run",)
    group.dirs[0].mkdir()
    for name in ("memory.swap.max", "cgroup.procs"):
        (group.dirs[0] / name).write_text("")
    group._limit(256 << 20, 8)
    group.join(12345)
    assert (group.dirs[0] / "memory.max").read_text() == str(256 << 20)
    assert (group.dirs[0] / "memory.swap.max").read_text() == "0"
    assert (group.dirs[0] / "pids.max").read_text() == "8"
    assert (group.dirs[0] / "cgroup.procs").read_text() == "12345"
    (group.dirs[0] / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_kills() == 1
