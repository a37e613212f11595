"""Isolation: hostile submissions run through a real worker, outcomes checked from outside.

Each level forces layers off with ``AUTOGRADER_SANDBOX_DISABLE`` and grades the attacks that the
remaining layers must contain; after every attack an honest submission must still be graded
right by the same warm worker. Every attack is bounded by itself (see tests/hostile/README.md).
"""

from __future__ import annotations

import io
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from rich.console import Console
from worker_request import sigmoid_request

from autograder import sandbox
from autograder.errors import SandboxError
from autograder.sandbox import cgroups, landlock, seccomp
from autograder.sandbox.capabilities import DISABLE_ENV, probe
from autograder.spec.models import Limits
from autograder.trusted.supervisor import RunResult, Zygote

HOSTILE = Path(__file__).parent / "hostile"
LIMITS = Limits(task_seconds=3, submission_seconds=20, memory_mb=512, processes=16, scratch_mb=16)
X = torch.linspace(-3, 3, 12).reshape(3, 4)
LEVELS = {
    "strong": "",
    "no-bwrap": "bwrap",
    "no-landlock-seccomp": "landlock,seccomp",
    "rlimits-only": "bwrap,landlock,seccomp,uid,cgroup",
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

    def __init__(self, caps: sandbox.Capabilities, tmp: Path) -> None:
        self.caps = caps
        self.tmp = tmp
        self.slot = sandbox.Slot(caps, scratch_mb=LIMITS.scratch_mb, insecure=True)
        self.zygote = Zygote(threads=1, slot=self.slot).start()
        self.runs = 0

    def run(
        self, name: str, *, total: float = 20, task: float = LIMITS.task_seconds, **subs: object
    ) -> RunResult:
        text = (HOSTILE / name).read_text()
        for key, value in subs.items():
            text = text.replace(f"__{key}__", str(value))
        self.runs += 1
        source = self.tmp / f"run{self.runs}" / "hw1.py"
        source.parent.mkdir()
        source.write_text(text)
        prepared = self.slot.prepare(LIMITS, source)
        request = sigmoid_request(prepared.path, prepared.confine)
        result = self.zygote.run(request, {"x": X}, task_seconds={"a": task}, total_seconds=total)
        assert result.settled.wait(30)
        self.zygote.join_housekeeping()
        self.assert_nothing_left()
        return result

    def assert_nothing_left(self) -> None:
        # the spare is forked after the run ended and has run nothing but the worker's code
        left = [p for p in descendants(self.zygote.pid) if p != self.zygote.spare_pid]
        assert left == [], "a process of the submission survived its run"
        if self.slot.sandbox_uid is not None:
            assert [p for p, (_, uid) in _processes().items() if uid == self.slot.sandbox_uid] == []
        assert not any(self.slot.scratch_root.iterdir()) or self.caps.active("bubblewrap")
        if self.caps.active("bubblewrap"):
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
    result = box.run("fork_bomb.py", total=5)
    assert time.monotonic() - start < 20
    made = sum(
        int(line.split()[-1]) for line in result.output_text.splitlines() if " made " in line
    )
    assert made >= 3 and result.ending == "done"
    if sandbox.processes_bounded(box.caps):
        assert "fork refused" in result.output_text
    box.assert_honest_graded()


@pytest.mark.parametrize("box", ALL, indirect=True)
def test_memory_growth_is_reported(box: Box) -> None:
    result = box.run("memory_growth.py")
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
    if box.caps.active("bubblewrap"):
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
