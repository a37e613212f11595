"""Warm workers: no state crosses from one submission to the next, thread counts, reference cache.

Every submission runs in a child forked from a warm zygote that imported torch but never ran a
torch op nor any student code. These tests grade a submission that leaves behind everything it
can (patched torch, default dtype, seeds, modules, builtins, env vars, files, a thread that keeps
patching) and then, in the same slot (``workers=1``), a spy that prints what it finds and the
reference solution, whose raw outputs must be bit-identical to those from before.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from worker_request import sigmoid_request

from autograder import cli
from autograder.spec.course import Course, find_course
from autograder.spec.load import load_assignment
from autograder.trusted import reference
from autograder.trusted.engine import Grader
from autograder.trusted.raw import Execution
from autograder.trusted.supervisor import Zygote, _gone

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
STUDENT = REPO / "examples" / "hw1_student.py"

LEAKER = """
import builtins, os, sys, threading, time, types
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
torch.set_num_threads(3)
_exp = torch.exp


def _patch():
    torch.exp = lambda x, *a, **k: _exp(x) + 1
    torch.Tensor.sum = lambda self, *a, **k: torch.zeros(())
    F.relu = lambda x, *a, **k: x


def _keep_patching():
    while True:
        _patch()
        time.sleep(0.001)


_patch()
sys.modules["leaked_module"] = types.ModuleType("leaked_module")
builtins.LEAKED = True
os.environ["LEAKED_ENV"] = "1"
with open("leaked.txt", "w") as f:
    f.write("left behind")
threading.Thread(target=_keep_patching, daemon=True).start()
"""

SPY = """
import builtins, importlib.util, json, os, threading
import torch
import torch.nn.functional as F


def _imported(name):
    # find_spec looks in sys.modules first (naming sys.modules is tampering, and the spy must
    # score full marks); a bare ModuleType there has no __spec__, which raises ValueError
    try:
        return importlib.util.find_spec(name) is not None
    except ValueError:
        return True


def _os_threads():
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("Threads:")))


_state = {
    "exp_is_builtin": torch.exp is torch._C._VariableFunctions.exp,
    "tensor_sum_patched": "sum" in torch.Tensor.__dict__,
    "relu_module": F.relu.__module__,
    "default_dtype": str(torch.get_default_dtype()),
    "initial_seed": torch.initial_seed(),
    "leaked_modules": [m for m in ("leaked_module",) if _imported(m)],
    "leaked_builtin": hasattr(builtins, "LEAKED"),
    "environ": sorted(os.environ),
    "cwd_files": sorted(os.listdir(".")),
    "python_threads": threading.active_count(),
    "torch_threads": torch.get_num_threads(),
    "grad_enabled": torch.is_grad_enabled(),
}
torch.ones(1 << 22).add(1).sum()  # big enough for the intra-op pool
_state["os_threads_after_big_op"] = _os_threads()
print("SPY " + json.dumps(_state, sort_keys=True))
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A reference cache of this module's own, empty at the start, so a first Grader computes it."""
    path = tmp_path_factory.mktemp("warm-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOGRADER_CACHE", str(path))
        yield path


class RunLog:
    """Counts ``Grader._run`` calls (worker runs) and keeps the hello frame of every child."""

    def __init__(self) -> None:
        self.runs = 0
        self.hellos: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def log(cache: Path) -> Iterator[RunLog]:
    record = RunLog()
    grader_run, zygote_run = Grader._run, Zygote.run

    def counted(self: Grader, *args: Any, **kwargs: Any) -> Execution:
        record.runs += 1
        return grader_run(self, *args, **kwargs)

    def watched(self: Zygote, *args: Any, **kwargs: Any):
        result = zygote_run(self, *args, **kwargs)
        record.hellos += [h for h, _ in result.frames if h.get("type") == "hello"]
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Grader, "_run", counted)
        mp.setattr(Zygote, "run", watched)
        yield record


def _enter(log: RunLog, **options: Any) -> tuple[Grader, int]:
    grader = Grader(load_assignment("hw1", Course(REPO)), skip_benchmarks=True, **options)
    before = log.runs
    grader.__enter__()
    return grader, log.runs - before


@pytest.fixture(scope="module")
def slot(log: RunLog) -> Iterator[tuple[Grader, int]]:
    """One warm slot (workers=1): every submission graded here shares the same zygote."""
    grader, runs = _enter(log, workers=1)
    yield grader, runs
    grader.__exit__(None, None, None)


@pytest.fixture(scope="module")
def threaded(log: RunLog, slot: tuple[Grader, int]) -> Iterator[tuple[Grader, int]]:
    """A second Grader for the same spec (after ``slot`` cached the reference), 2 threads a worker."""
    grader, runs = _enter(log, workers=1, threads=2)
    yield grader, runs
    grader.__exit__(None, None, None)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _spy_state(report) -> dict[str, Any]:
    lines = [line for line in report.stdout_tail.splitlines() if line.startswith("SPY ")]
    assert lines, report.stdout_tail
    return json.loads(lines[-1][4:])


def _full_marks(report) -> bool:
    """Every task that ran got all its points (the benchmark is skipped throughout)."""
    ran = [t for t in report.tasks if t.status != "skipped"]
    return report.submission_status == "graded" and all(
        t.score_exact == t.max_score_exact for t in ran
    )


def _spy_graded(report) -> bool:
    """The spy (the reference plus module-level introspection) was graded, and its only losses
    are the forbidden-API charges its introspection earns (``__dict__``, ``importlib``, an
    attribute of ``F.relu``): its numbers are the reference's."""
    return report.submission_status == "graded" and all(
        t.status in ("passed", "skipped", "forbidden API") for t in report.tasks
    )


def _failures(report) -> list[str]:
    return [
        f"{t.id}: {t.status}: {t.message}"
        for t in report.tasks
        if t.status not in ("passed", "skipped")
    ]


def _assert_same_raw(a: Execution, b: Execution) -> None:
    assert a.task_failures == b.task_failures == {}
    assert a.probes.keys() == b.probes.keys()
    for probe_id, raw in a.probes.items():
        other = b.probes[probe_id]
        assert (raw.status, raw.message, raw.facts) == (other.status, other.message, other.facts), (
            probe_id
        )
        assert raw.outputs.keys() == other.outputs.keys(), probe_id
        for name, tensor in raw.outputs.items():
            torch.testing.assert_close(
                tensor,
                other.outputs[name],
                rtol=0,
                atol=0,
                equal_nan=True,
                msg=f"{probe_id} {name}",
            )


# -- state leaks --------------------------------------------------------------------------------
def test_nothing_leaks_from_one_submission_to_the_next_in_a_warm_slot(slot, tmp_path: Path) -> None:
    grader, _ = slot
    reference_text = REFERENCE.read_text()
    spy = _write(tmp_path, "spy.py", SPY + reference_text)
    leaker = _write(tmp_path, "leaker.py", LEAKER + reference_text)

    before_report = grader.grade(spy)
    before_raw = grader._run(REFERENCE.read_bytes())
    assert _spy_graded(before_report), _failures(before_report)

    leaked = grader.grade(leaker)
    # the patches really took effect inside the leaker's own run
    assert leaked.submission_status == "graded"
    assert leaked.score_exact != leaked.max_score_exact

    after_report = grader.grade(spy)
    after_raw = grader._run(REFERENCE.read_bytes())
    state = _spy_state(after_report)
    assert state == _spy_state(before_report)
    assert state["exp_is_builtin"] and not state["tensor_sum_patched"]
    assert state["relu_module"] == "torch.nn.functional"
    assert state["default_dtype"] == "torch.float32"
    assert state["leaked_modules"] == [] and not state["leaked_builtin"]
    assert "LEAKED_ENV" not in state["environ"]
    assert state["cwd_files"] == []
    assert state["python_threads"] == 1
    assert _spy_graded(after_report), _failures(after_report)
    assert [t.model_dump(exclude={"seconds"}) for t in after_report.tasks] == [
        t.model_dump(exclude={"seconds"}) for t in before_report.tasks
    ]
    _assert_same_raw(before_raw, after_raw)
    assert _full_marks(grader.grade(REFERENCE))


def test_a_seed_set_at_import_does_not_change_what_the_next_submission_draws(
    slot, tmp_path: Path
) -> None:
    """Random checks (initialisers, dropout) reseed per probe; a leaked seed would shift the samples."""
    grader, _ = slot
    first = grader._run(REFERENCE.read_bytes())
    grader.grade(
        _write(
            tmp_path,
            "seeder.py",
            "import torch\ntorch.manual_seed(99)\ntorch.rand(1000)\n" + REFERENCE.read_text(),
        )
    )
    _assert_same_raw(first, grader._run(REFERENCE.read_bytes()))


# -- threads ------------------------------------------------------------------------------------
def _os_threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def test_the_zygote_never_starts_an_intra_op_thread_pool(slot, threaded) -> None:
    """An OpenMP pool started in the zygote would survive there, and a child forked from it
    deadlocks on its first parallel op. With 2 threads a worker, the zygote holds only its main
    thread and numpy's OpenBLAS pool (started by ``import numpy``; OpenBLAS's own fork handler
    shuts it down before the first child), and after grading only the main thread."""
    grader, _ = threaded
    for zygote in grader._all_zygotes:
        assert zygote.pid is not None and zygote.threads == 2
        assert _os_threads(zygote.pid) <= 2
    for grader, _ in (threaded, slot):
        grader.grade(REFERENCE)
        for zygote in grader._all_zygotes:
            assert _os_threads(zygote.pid) == 1


def test_workers_run_with_the_configured_thread_count(
    slot, threaded, log: RunLog, tmp_path: Path
) -> None:
    spy = _write(tmp_path, "spy.py", SPY + REFERENCE.read_text())
    for (grader, _), threads in ((slot, 1), (threaded, 2)):
        log.hellos.clear()
        report = grader.grade(spy)
        assert _spy_graded(report), _failures(report)
        assert log.hellos and {h["threads"] for h in log.hellos} == {threads}
        state = _spy_state(report)
        assert state["torch_threads"] == threads
        # a 4M-element op ran with the pool: 1 thread means no pool thread at all
        assert (
            (state["os_threads_after_big_op"] == 1)
            if threads == 1
            else (state["os_threads_after_big_op"] >= threads)
        )


# -- reference cache ----------------------------------------------------------------------------
def test_reference_results_are_computed_once_then_read_from_the_cache(
    slot, threaded, cache: Path
) -> None:
    assert slot[1] == 1  # the first Grader ran the reference solution
    assert threaded[1] == 0  # the second, for the same spec, did not
    assert len(list((cache / "reference").glob("hw1-*.safetensors"))) == 1


def test_the_cache_key_follows_spec_reference_data_and_tasks(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(REPO / "assignments", course / "assignments")
    shutil.copytree(REPO / "reference_solutions", course / "reference_solutions")
    base = load_assignment("hw1", find_course(course))
    ref = base.reference_path
    assert ref is not None
    tasks = ["activations", "losses"]
    key = reference.cache_key(base.spec_hash, ref, "", tasks)
    assert key == reference.cache_key(base.spec_hash, ref, "", list(tasks))

    spec_file = course / "assignments" / "hw1.toml"
    spec_file.write_text(spec_file.read_text().replace("atol = 1e-5", "atol = 2e-5", 1))
    changed = load_assignment("hw1", find_course(course))
    assert changed.spec_hash != base.spec_hash
    assert reference.cache_key(changed.spec_hash, ref, "", tasks) != key

    ref.write_text(ref.read_text() + "\n# a comment changes the file's hash\n")
    assert reference.cache_key(base.spec_hash, ref, "", tasks) != key
    ref.write_text((REPO / "reference_solutions" / "hw1.py").read_text())
    assert reference.cache_key(base.spec_hash, ref, "", tasks) == key
    assert reference.cache_key(base.spec_hash, ref, "data-sha", tasks) != key
    assert reference.cache_key(base.spec_hash, ref, "", tasks[:1]) != key
    # the plan's headers and inputs (seeds from the course secret among them)
    assert reference.cache_key(base.spec_hash, ref, "", tasks, "plan-digest") != key


# -- --skip-benchmarks --------------------------------------------------------------------------
def test_check_skip_benchmarks_marks_the_benchmark_skipped_not_failed(
    slot, log: RunLog, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(REPO)
    before = log.runs
    assert cli.main(["check", "hw1", str(STUDENT), "--skip-benchmarks", "--json"]) == 0
    report = json.load(io.StringIO(capsys.readouterr().out))
    assert log.runs - before == 1  # the student's run; the reference came from the cache
    bench = [t for t in report["tasks"] if t["id"] == "benchmark-catdog"]
    assert len(bench) == 1
    task = bench[0]
    assert task["status"] == "skipped" and "skip-benchmarks" in task["message"]
    assert task["score_exact"] == "0" and task["max_score_exact"] == "3/2"
    assert [c["status"] for c in task["checks"]] == ["skipped"]
    assert all(t["status"] != "skipped" for t in report["tasks"] if t["id"] != "benchmark-catdog")
    assert report["submission_status"] == "graded"


def _alive(pid: int | None) -> bool:
    """Whether ``pid`` exists and is not a zombie (the grader's own test of a spare)."""
    return pid is not None and not _gone(pid)


def test_a_submissions_processes_are_gone_when_its_report_is_returned(
    slot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Teardown overlaps scoring, but the report waits for it: ``grade`` returns only after the
    run is settled, and a process the submission left behind in its own session is dead."""
    grader, _ = slot
    real_settle = Zygote._settle
    settled_at: list[float] = []

    def slow_settle(self: Zygote, *args: Any) -> None:
        time.sleep(1.0)  # teardown outlasting the scoring: the report must wait for it
        real_settle(self, *args)
        settled_at.append(time.monotonic())

    source = _write(
        tmp_path,
        "daemon.py",
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print('LEFT BEHIND', pid, flush=True)\n" + REFERENCE.read_text(),
    )
    grader._all_zygotes[0].join_housekeeping()  # earlier runs settle at normal speed
    monkeypatch.setattr(Zygote, "_settle", slow_settle)
    report = grader.grade(source)
    returned_at = time.monotonic()
    assert _full_marks(report), _failures(report)
    assert len(settled_at) == 1 and settled_at[0] <= returned_at
    pid = int(report.stdout_tail.split("LEFT BEHIND")[1].split()[0])
    assert not _alive(pid)
    # The next run's child was forked while the zygote swept this run's leftovers: the sweep
    # must have spared it (it is the zygote's own child, not an orphan).
    again = grader.grade(source)
    assert _full_marks(again), _failures(again)


def test_input_bundles_reach_each_child_and_are_sent_to_a_zygote_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from autograder.wire import frames as wire

    source = tmp_path / "hw1.py"
    # the first child scribbles over its input: the next child must still get the original
    source.write_text(
        "import torch\ndef sigmoid(x):\n    y = x * 1\n    x.data.fill_(9.0)\n    return y\n"
    )
    x = torch.linspace(-3, 3, 12).reshape(3, 4)
    bundle = wire.Bundle.of({"x": x})
    sent: list[bytes] = []
    real_send_fds = socket.send_fds

    def spy(sock, buffers, fds, *args):  # noqa: ANN001, ANN202
        sent.extend(buffers)
        return real_send_fds(sock, buffers, fds, *args)

    monkeypatch.setattr(socket, "send_fds", spy)
    with Zygote(threads=1) as zygote:
        for _ in range(2):
            run = zygote.run(
                sigmoid_request(source), {}, bundles=[bundle], task_seconds={}, total_seconds=30
            )
            probe, outputs = next((h, t) for h, t in run.frames if h.get("type") == "probe")
            assert probe["status"] == "ok", probe
            assert sorted(outputs) == ["out"] and torch.equal(outputs["out"], x), outputs.keys()
        zygote.join_housekeeping()
        assert [b for b in sent if b.startswith(b"bundle")] == [f"bundle {bundle.key}".encode()]
        # run 1 forked its child; each finished run forked a spare, which run 2 used
        assert len([b for b in sent if b == b"fork"]) == 3 and zygote.spare_pid is not None
        # a spare killed from outside while it waits is replaced, not handed a submission
        killed = zygote.spare_pid
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _alive(killed):  # dead: a zombie or reaped, its exit report maybe still on its way
            assert time.monotonic() < deadline
            time.sleep(0.01)
        run = zygote.run(
            sigmoid_request(source), {}, bundles=[bundle], task_seconds={}, total_seconds=30
        )
        assert run.ending == "done", (run.ending, run.detail)
        zygote.join_housekeeping()
        # a new bundle retires the spare, forked before the bundle existed
        spare = zygote.spare_pid
        zygote.preload(wire.Bundle.of({"y": torch.ones(2)}))
        assert zygote.spare_pid is None and not _alive(spare)
        # a child checks every key it is given against what its zygote holds
        missing = zygote.run(
            {**sigmoid_request(source), "bundles": ["not-preloaded"]},
            {},
            task_seconds={},
            total_seconds=30,
        )
        error = next(h for h, _ in missing.frames if h.get("type") == "worker_error")
        assert "not-preloaded was not preloaded" in error["error"]
    # the tensor the grader holds was never touched by any child
    assert torch.equal(x, torch.linspace(-3, 3, 12).reshape(3, 4))


def test_a_prelaunched_zygote_is_used_only_when_its_box_matches(slot) -> None:
    """``autograder check`` starts its zygote before importing torch; the Grader takes it as its
    slot only if it was started with the grader's settings, and otherwise shuts it down."""
    from autograder.trusted.supervisor import launch_early

    loaded = load_assignment("hw1", Course(REPO))
    scratch = loaded.spec.limits.scratch_mb
    early = launch_early(scratch_mb=scratch)
    with Grader(loaded, skip_benchmarks=True, prelaunched=early) as grader:
        assert grader._all_zygotes == [early]
        assert _full_marks(grader.grade(REFERENCE))

    other = launch_early(scratch_mb=scratch + 1)
    process = other._proc
    with Grader(loaded, skip_benchmarks=True, prelaunched=other) as grader:
        assert other not in grader._all_zygotes and len(grader._all_zygotes) == 1
        assert process is not None and process.poll() is not None  # shut down, not leaked
        assert _full_marks(grader.grade(REFERENCE))


def test_a_failed_spare_fork_still_settles_the_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report waits for the finished run's teardown; a failure to fork the next child must
    not skip that teardown, only surface at the next run."""
    from autograder.errors import AutograderError

    source = tmp_path / "hw1.py"
    source.write_text("import torch\ndef sigmoid(x):\n    return torch.sigmoid(x)\n")
    with Zygote(threads=1) as zygote:
        first = zygote.run(
            sigmoid_request(source), {"x": torch.ones(3)}, task_seconds={}, total_seconds=30
        )
        assert first.ending == "done"
        zygote.join_housekeeping()  # a spare is ready: the next run needs no fork of its own
        settled: list[int] = []
        real_settle = Zygote._settle

        def spy_settle(self: Zygote, pid: int, result: Any) -> None:
            settled.append(pid)
            real_settle(self, pid, result)

        def broken_fork(self: Zygote) -> tuple[int, int, int]:
            raise AutograderError("no fork today")

        monkeypatch.setattr(Zygote, "_settle", spy_settle)
        monkeypatch.setattr(Zygote, "_send_fork", broken_fork)
        run = zygote.run(
            sigmoid_request(source), {"x": torch.ones(3)}, task_seconds={}, total_seconds=30
        )
        assert run.ending == "done"
        assert run.settled.wait(30)
        assert len(settled) == 1 and run.exit_status is not None
        with pytest.raises(AutograderError, match="no fork today"):
            zygote.join_housekeeping()
