"""Batch grading on a Dask cluster (``--cluster``): the same gradebook as local lanes, nothing
lost when a Dask worker dies, and a worker that would grade differently refuses.

The end-to-end tests run ``autograder batch`` in a subprocess against a real
``distributed.LocalCluster`` (2 worker processes, 1 thread each) started here; the unit tests
cover what a worker holds (by hash) and what the batch accepts back, without a cluster.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from mutants.overlay import build

distributed = pytest.importorskip("distributed")

from autograder.batch import cluster, cluster_worker, shipping  # noqa: E402
from autograder.errors import SpecError  # noqa: E402
from autograder.report import Report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"
OVERLAYS = REPO / "tests" / "hostile_submissions" / "overlays"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A real cluster for this module: 2 worker processes with 1 thread each (as CI runs it).

    The workers inherit the session's private AUTOGRADER_CACHE, so their graders reuse the
    reference results other tests cached; they stay warm from one test to the next."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local.scheduler_address


def _batch(root: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "batch", "hw1", str(root), "--db", str(db)]
        + ["--skip-benchmarks", "--course", str(REPO), *extra],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        timeout=400,
    )


def _start_batch(root: Path, db: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "batch", "hw1", str(root), "--db", str(db)]
        + ["--skip-benchmarks", "--course", str(REPO), "--cluster", address],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
    )


def _attempts(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM attempts ORDER BY student_id")]
    finally:
        conn.close()


def _graded(db: Path) -> int:
    """Graded rows so far, read while a batch may be creating or writing the gradebook."""
    try:
        return sum(r["status"] == "graded" for r in _attempts(db)) if db.exists() else 0
    except sqlite3.Error:
        return 0


def _grades(db: Path) -> dict[str, tuple]:
    """Per student: status, exact score and every task's status and exact score."""
    out = {}
    for row in _attempts(db):
        report = Report.model_validate_json(row["report_json"]) if row["report_json"] else None
        tasks = [(t.id, t.status, t.score_exact) for t in report.tasks] if report else []
        exact = report.score_exact if report else None
        out[row["student_id"]] = (row["status"], exact, row["sha256"], tasks)
    return out


def _folder(root: Path) -> Path:
    root.mkdir()
    (root / "ref.py").write_bytes(REFERENCE.read_bytes())
    (root / "student.py").write_bytes((REPO / "examples" / "hw1_student.py").read_bytes())
    (root / "wrong.py").write_text(build(REFERENCE, OVERLAYS / "wrong_outputs.py"))
    (root / "segfault.py").write_text(build(REFERENCE, OVERLAYS / "segfault_in_tanh.py"))
    (root / "syntax.py").write_text("def softmax(:\n")
    return root


@pytest.mark.timeout(600)  # two batches, each starting its graders cold
def test_a_cluster_batch_gives_the_local_gradebook_score_for_score(
    scheduler: str, tmp_path: Path
) -> None:
    root = _folder(tmp_path / "subs")
    local = _batch(root, tmp_path / "local.sqlite", "--workers", "2")
    assert local.returncode == 0, local.stdout + local.stderr
    remote = _batch(root, tmp_path / "cluster.sqlite", "--cluster", scheduler)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert "graded now" in remote.stdout and "grading hw1" in remote.stdout  # the same summary

    expected, got = _grades(tmp_path / "local.sqlite"), _grades(tmp_path / "cluster.sqlite")
    assert got == expected
    assert set(got) == {"ref", "student", "wrong", "segfault", "syntax"}
    assert got["ref"][1] == "27/2" and got["syntax"][1] == "0"
    assert "0" < got["segfault"][1] != "27/2" and got["wrong"][1] != "27/2"
    # each report says which host and which Dask worker graded it; local ones do not
    for row in _attempts(tmp_path / "cluster.sqlite"):
        isolation = json.loads(row["report_json"])["isolation"]
        assert isolation["host"] and isolation["dask_worker"].startswith("tcp://"), isolation
    for row in _attempts(tmp_path / "local.sqlite"):
        assert "dask_worker" not in json.loads(row["report_json"])["isolation"]

    # the workers' sampling profiler is off: it held the grading thread's frames
    with distributed.Client(scheduler, set_as_default=False) as client:
        profiling = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert profiling and not any(profiling.values())

    again = _batch(root, tmp_path / "cluster.sqlite", "--cluster", scheduler)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"skipped \(already graded\)\s*│\s*5\s*│", again.stdout), again.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killing_a_dask_worker_mid_batch_grades_every_submission_once(
    scheduler: str, tmp_path: Path
) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    reference = REFERENCE.read_bytes()
    # the slow one holds its worker for seconds: it is the task whose worker is killed
    slow = reference + b"\nimport time\ntime.sleep(4)\n"
    (root / "a_slow.py").write_bytes(slow)
    for i in range(4):
        (root / f"s{i}.py").write_bytes(reference + f"\n# student {i}\n".encode())
    db = tmp_path / "gb.sqlite"
    prefix = f"autograder-hw1-{shipping.sha256_bytes(slow)[:12]}-"

    with distributed.Client(scheduler, set_as_default=False) as client:
        pids = client.run(os.getpid)
        proc = _start_batch(root, db, scheduler)
        victim, deadline = None, time.monotonic() + 240
        while victim is None and proc.poll() is None and time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any(str(k).startswith(prefix) for k in keys):
                    victim = address
            time.sleep(0.2)
        assert victim is not None, "the slow submission was never seen running"
        time.sleep(1.0)  # well inside its grading
        os.kill(pids[victim], signal.SIGKILL)
        out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out

    rows = _attempts(db)
    assert sorted(r["student_id"] for r in rows) == ["a_slow", "s0", "s1", "s2", "s3"]
    assert {r["status"] for r in rows} == {"graded"}
    reports = {r["student_id"]: json.loads(r["report_json"]) for r in rows}
    assert reports["a_slow"]["score_exact"] == reports["s0"]["score_exact"] == "27/2"
    # graded again by a worker that is not the one killed
    assert reports["a_slow"]["isolation"]["dask_worker"] != victim


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_batch_leaves_nothing_queued_and_a_rerun_grades_each_once(
    scheduler: str, tmp_path: Path
) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    reference = REFERENCE.read_bytes()
    for i in range(6):
        (root / f"s{i}.py").write_bytes(reference + f"\n# student {i}\n".encode())
    db = tmp_path / "gb.sqlite"
    first = _start_batch(root, db, scheduler)
    deadline = time.monotonic() + 240
    while first.poll() is None and time.monotonic() < deadline:
        if _graded(db):
            break
        time.sleep(0.1)
    assert first.poll() is None, "the batch finished before it could be killed"
    first.kill()
    first.communicate(timeout=60)
    assert len(_attempts(db)) < 6

    def ours(dask_scheduler) -> int:
        return sum(str(key).startswith("autograder-hw1-") for key in dask_scheduler.tasks)

    with distributed.Client(scheduler, set_as_default=False) as client:
        deadline = time.monotonic() + 60
        while client.run_on_scheduler(ours) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.run_on_scheduler(ours) == 0  # the departed batch's tasks are dropped
    second = _start_batch(root, db, scheduler)
    out, _ = second.communicate(timeout=400)
    assert second.returncode == 0, out
    rows = _attempts(db)
    assert sorted(r["student_id"] for r in rows) == [f"s{i}" for i in range(6)]
    assert {r["status"] for r in rows} == {"graded"}


def test_a_worker_that_reads_another_spec_hash_refuses(tmp_path: Path) -> None:
    """A worker with another autograder build behind the same version number hashes the spec
    text to another spec hash: it refuses, and the batch stops with its message."""
    import shutil

    stale = tmp_path / "stale"
    shutil.copytree(REPO / "autograder", stale / "autograder")
    with (stale / "autograder" / "spec" / "load.py").open("a") as fh:
        fh.write(
            "\n\n_read_elsewhere = spec_hash\n\n\n"
            "def spec_hash(spec):  # this build reads specs differently\n"
            "    return _read_elsewhere(spec)[::-1]\n"
        )
    root = tmp_path / "subs"
    root.mkdir()
    (root / "ref.py").write_bytes(REFERENCE.read_bytes())
    db = tmp_path / "gb.sqlite"
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as local:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", local.scheduler_address]
            + ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            env={**os.environ, "PYTHONPATH": str(stale)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            out = _batch(root, db, "--cluster", local.scheduler_address)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    message = " ".join((out.stdout + out.stderr).split())
    assert "refuses to grade hw1" in message, message
    assert "reads specs differently" in message and "Traceback" not in message
    assert not db.exists() or not _attempts(db)


def test_published_files_are_fetched_once_through_the_scheduler(
    scheduler: str, tmp_path: Path
) -> None:
    """What a worker lacks comes from the batch by hash (once: then it holds it)."""
    blob = os.urandom(3000)
    sha = shipping.sha256_bytes(blob)
    store = tmp_path / "store"

    def fetch_on_worker() -> list[str]:
        calls: list[str] = []

        def counted(digest: str) -> bytes:
            calls.append(digest)
            return cluster_worker._fetch(digest)

        held = shipping.Store(store, counted)
        first = held.object(sha, "a file").read_bytes()
        second = held.object(sha, "a file").read_bytes()
        assert first == second == blob
        return calls

    with distributed.Client(scheduler, set_as_default=False) as client:
        distributed.Variable(shipping.blob_name(sha), client=client).set(blob)
        assert client.submit(fetch_on_worker, pure=False).result(timeout=60) == [sha]


# -- without a cluster: the worker's store, its warm grader, the batch's checks ---------------


def _counting(blobs: dict[str, bytes]):
    calls: list[str] = []

    def fetch(sha: str) -> bytes:
        calls.append(sha)
        if sha not in blobs:
            raise cluster_worker.Refusal(f"none came for {sha}")
        return blobs[sha]

    return fetch, calls


def test_a_store_fetches_what_it_lacks_once_and_refetches_a_damaged_copy(tmp_path: Path) -> None:
    blob = b"print('reference')\n"
    sha = shipping.sha256_bytes(blob)
    fetch, calls = _counting({sha: blob})
    store = shipping.Store(tmp_path, fetch)
    path = store.object(sha, "ref")
    assert path.read_bytes() == blob and store.object(sha, "ref") == path and calls == [sha]
    path.chmod(0o644)
    path.write_bytes(b"stale")  # damaged or stale: never used
    assert store.object(sha, "ref").read_bytes() == blob and calls == [sha, sha]
    liar = shipping.Store(tmp_path / "other", lambda _: b"not it")
    with pytest.raises(shipping.ShippingError, match="does not match its sha256"):
        liar.object(sha, "ref")


def test_a_data_root_is_rebuilt_from_own_copies_and_fetched_files(tmp_path: Path) -> None:
    batch_root = tmp_path / "batch"
    (batch_root / "catdog").mkdir(parents=True)
    (batch_root / "catdog" / "a.bin").write_bytes(b"A" * 100)
    (batch_root / "b.txt").write_bytes(b"B")
    (batch_root / ".DS_Store").write_bytes(b"litter")
    manifest = shipping.DataManifest.of_folder(batch_root)
    assert sorted(manifest.files) == ["b.txt", "catdog/a.bin"]
    blobs = {manifest.sha256: manifest.blob()}
    blobs.update({sha: (batch_root / rel).read_bytes() for rel, (sha, _) in manifest.files.items()})
    own = tmp_path / "own"  # the worker's data: the same a.bin, another b.txt
    (own / "catdog").mkdir(parents=True)
    (own / "catdog" / "a.bin").write_bytes(b"A" * 100)
    (own / "b.txt").write_bytes(b"old B")

    fetch, calls = _counting(blobs)
    root = shipping.Store(tmp_path / "store", fetch).data_root(manifest.sha256, own)
    assert (root / "catdog" / "a.bin").read_bytes() == b"A" * 100
    assert (root / "b.txt").read_bytes() == b"B"
    assert sorted(p.name for p in root.rglob("*")) == ["a.bin", "b.txt", "catdog"]
    b_sha = manifest.files["b.txt"][0]
    assert sorted(calls) == sorted([manifest.sha256, b_sha])  # a.bin was this machine's own
    assert shipping.DataManifest.of_folder(root).sha256 == manifest.sha256


def test_a_manifest_naming_a_path_outside_its_root_is_refused() -> None:
    for entry in ({"../x": ["0" * 64, 1]}, {"/etc/passwd": ["0" * 64, 1]}, {"a": ["zz", 1]}, []):
        with pytest.raises(shipping.ShippingError):
            shipping.DataManifest.parse(json.dumps(entry).encode())


def _fake_worker() -> SimpleNamespace:
    return SimpleNamespace(
        address="tcp://w:1", state=SimpleNamespace(nthreads=1), periodic_callbacks={}
    )


class _FakeGrader:
    def __init__(self, name: str) -> None:
        self.name, self.closed = name, False

    def __exit__(self, *exc: object) -> None:
        self.closed = True


def test_a_warm_grader_is_replaced_never_reused_for_another_spec(monkeypatch) -> None:
    host = cluster_worker.GraderHost()
    host.setup(_fake_worker())
    started: list[_FakeGrader] = []

    def start(request: dict) -> _FakeGrader:
        started.append(_FakeGrader(request["spec_hash"]))
        return started[-1]

    monkeypatch.setattr(host, "_start", start)
    request = {"spec_hash": "A", "reference_sha256": "r", "data_sha256": "", "options": {}}
    with host._using(request) as first:
        pass
    with host._using(request) as again:
        assert again is first  # warm: not started again
    with host._using({**request, "spec_hash": "B"}) as other:
        assert other.name == "B" and first.closed
    with host._using({**request, "options": {"insecure": True}}) as third:
        assert third is not other and other.closed
    assert [g.name for g in started] == ["A", "B", "A"]


def test_a_worker_with_other_versions_or_another_course_secret_refuses(monkeypatch) -> None:
    mine = cluster_worker.facts()
    assert cluster_worker.mismatch(mine, {**mine, "host": "x"}) == ""
    wrong = cluster_worker.mismatch(mine, {**mine, "torch": "1.0"})
    assert wrong == f"torch 1.0 (the batch has {mine['torch']})"
    host = cluster_worker.GraderHost()
    host.setup(_fake_worker())

    def ask(versions: dict) -> dict:
        request = {"protocol": cluster_worker.PROTOCOL, "versions": versions}
        return host.grade(json.dumps(request), "k", b"")

    answer = ask({**mine, "torch": "9"})
    assert "(the batch has 9)" in answer["refused"]
    assert "install the same versions" in answer["refused"]
    # held-out splits derive from the course secret: a worker with another one refuses
    monkeypatch.setenv("AUTOGRADER_SECRET", "this worker's own secret")
    assert cluster_worker.facts()["course secret"] != mine["course secret"]
    answer = ask(mine)
    assert "course secret" in answer["refused"] and "AUTOGRADER_SECRET_FILE" in answer["refused"]
    # the engine fingerprint the workers share travels in the request too
    monkeypatch.delenv("AUTOGRADER_SECRET")
    answer = ask({**mine, "engine": "0" * 64})
    assert "engine" in answer["refused"]


def _grader(tmp_path: Path) -> cluster.ClusterGrader:
    assignment = SimpleNamespace(id="hw1", spec_hash="spec-1")
    return cluster.ClusterGrader(assignment, address="tcp://nowhere:1")


def test_the_batch_accepts_only_a_valid_report_for_the_file_it_sent(tmp_path: Path) -> None:
    from report_factory import make_report

    grader = _grader(tmp_path)
    report = make_report(sha256="f" * 64, spec_hash="spec-1", grader_version=cluster.__version__)
    item = cluster._Item("k", b"x", "f" * 64)
    where = {"host": "h", "worker": "tcp://w:1"}

    def answer(**kw) -> str:
        return json.dumps({**where, **kw})

    assert grader._answer(answer(report=report.model_dump(mode="json")), item) == report
    other = cluster._Item("k", b"y", "e" * 64)
    got = grader._answer(answer(report=report.model_dump(mode="json")), other)
    assert isinstance(got, cluster.ClusterFailure) and "another file or spec" in str(got)
    bad = grader._answer(answer(report={"score": "lots"}), item)
    assert isinstance(bad, cluster.ClusterFailure) and "invalid report" in str(bad)
    crash = grader._answer(answer(error={"type": "ZeroDivisionError", "message": "x"}), item)
    assert isinstance(crash, cluster.ClusterFailure) and "grader failed on worker" in str(crash)
    with pytest.raises(SpecError, match="on worker tcp://w:1"):
        grader._answer(answer(error={"type": "SpecError", "message": "bad"}), item)
    with pytest.raises(cluster.ClusterError, match="refuses to grade hw1: stale"):
        grader._answer(answer(refused="stale"), item)
    assert isinstance(grader._answer("[1]", item), cluster.ClusterFailure)


def test_a_scheduler_that_cannot_be_reached_is_one_clear_error(monkeypatch) -> None:
    from autograder.spec.load import load_assignment

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    grader = cluster.ClusterGrader(
        load_assignment("hw1"), address="tcp://127.0.0.1:9", skip_benchmarks=True
    )
    with pytest.raises(cluster.ClusterError, match="cannot reach the Dask scheduler"):
        grader.__enter__()


def test_cluster_and_workers_do_not_mix(tmp_path: Path) -> None:
    out = _batch(tmp_path, tmp_path / "gb.sqlite", "--workers", "2", "--cluster", "tcp://x:1")
    assert out.returncode == 2 and "not allowed with argument" in out.stderr
