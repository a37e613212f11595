"""Batch grading on a Dask distributed cluster: ``autograder batch ... --cluster tcp://HOST:8786``.

``ClusterGrader`` has the batch interface of ``Grader`` and ``LaneGrader`` (context manager,
``grade``, ``grade_many``), so the gradebook, the progress bar, the summary and the resume logic
stay in the batch's process, its one writer. Each Dask worker process keeps one warm grader
(``autograder.batch.cluster_worker``); the grading itself is the local sandboxed grading.

What crosses the network is bytes and hashes, never paths: a task carries the submission's
bytes, the spec text and its hash, the sha256 of the reference solution and of the data root's
manifest. The batch publishes those files on the scheduler once; a worker fetches a file only
if it holds no copy with that hash (``autograder.batch.shipping``). Results come back as JSON
strings, validated here with the ``Report`` model; the client refuses to unpickle results.

Failures: a Dask worker that dies while grading has its task retried by the scheduler on
another worker, up to ``distributed.scheduler.allowed-failures`` times (default 3), then the
submission is recorded as failed to grade with the reason. A worker that refuses (other
versions, another reading of the spec, a file it cannot get) stops the batch with its message,
as any problem that would fail every student alike does locally.
"""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.batch import shipping
from autograder.errors import AutograderError, SubmissionError, WorkerProtocolError
from autograder.report import Report
from autograder.submission import read_submission
from autograder.version import __version__

CONNECT_SECONDS = 30.0
# How long the batch waits for a first worker, and for the scheduler after a lost connection.
WAIT_SECONDS = 120.0
# A submission whose task was cancelled under it (the scheduler restarted) is sent again at
# most this often; a worker's death is counted by the scheduler itself (allowed-failures).
MAX_RESUBMITS = 3
# A worker's answer larger than this is refused unread (a report is a few hundred kB at most).
MAX_ANSWER_CHARS = 32 * 1024 * 1024
INSTALL_HINT = "pip install 'autograder[cluster]'"


class ClusterError(AutograderError):
    """The cluster cannot grade as this batch would: unreachable, no workers, a worker with
    other versions or that refuses. Stops the batch; what was recorded stays."""


class ClusterFailure(SubmissionError):
    """One submission the cluster could not grade (its worker died too often, or the grader
    failed on it): recorded as failed to grade, with this message as the reason."""


@dataclass
class _Item:
    key: str
    source: bytes
    sha256: str
    resubmits: int = 0


def grader_for(assignment: Any, *, address: str, workers: int = 1, **options: Any) -> ClusterGrader:
    """The batch's grader factory for ``--cluster ADDRESS`` (``workers`` is the cluster's own)."""
    return ClusterGrader(assignment, address=address, **options)


class ClusterGrader:
    """Grades on a Dask cluster; see the module docstring. Use as a context manager."""

    def __init__(
        self,
        assignment: Any,
        *,
        address: str,
        skip_benchmarks: bool = False,
        data_root: str | None = None,
        require_data: bool = False,
        insecure: bool = False,
        threads: int = 1,
    ) -> None:
        self.assignment = assignment
        self.address = address
        self.skip_benchmarks = skip_benchmarks
        self.data_root = data_root
        self.options = {
            "skip_benchmarks": skip_benchmarks,
            "require_data": require_data,
            "insecure": insecure,
            "threads": threads,
        }
        self.client: Any = None
        self.blobs: dict[str, bytes] = {}
        self.request = ""  # JSON, set on entering: what every task carries
        self._threads = (0.0, 1)  # (when asked, total worker threads)

    # -- connecting ----------------------------------------------------------------------------
    def __enter__(self) -> ClusterGrader:
        try:
            import distributed
        except ImportError:
            raise ClusterError(
                f"--cluster needs Dask's distributed scheduler: {INSTALL_HINT}"
            ) from None
        request = self._build_request()
        try:
            self.client = distributed.Client(
                self.address,
                timeout=CONNECT_SECONDS,
                set_as_default=False,
                # results are JSON strings: a worker's answer is never unpickled here
                deserializers=["msgpack", "error"],
            )
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.address} within "
                f"{CONNECT_SECONDS:.0f} s ({exc}); start one with 'dask scheduler'"
            ) from None
        try:
            request["versions"]["engine"] = self._check_workers(request["versions"])
            self.request = json.dumps(request)
            for sha, blob in self.blobs.items():
                distributed.Variable(shipping.blob_name(sha), client=self.client).set(blob)
            from autograder.batch.cluster_worker import GraderHost

            self.client.register_plugin(GraderHost())
        except BaseException:
            self._close()
            raise
        return self

    def _build_request(self) -> dict[str, Any]:
        """What every task carries (built once): spec text and hashes, never a path."""
        from autograder.batch.cluster_worker import PROTOCOL, facts
        from autograder.spec.load import parse_spec, spec_hash

        loaded = self.assignment
        path = Path(loaded.path)
        text = path.read_text(encoding="utf-8")
        if spec_hash(parse_spec(path, text)) != loaded.spec_hash:
            raise ClusterError(f"{path} changed while the batch was starting; rerun the batch")
        reference = loaded.reference_path
        if reference is None or not reference.is_file():
            raise AutograderError(f"reference solution not found: {reference}")
        ref_bytes = reference.read_bytes()
        ref_sha = shipping.sha256_bytes(ref_bytes)
        self.blobs = {ref_sha: ref_bytes}
        data_sha, no_data = self._data()
        return {
            "protocol": PROTOCOL,
            "versions": facts(),
            "spec_name": path.name,
            "spec_text": text,
            "spec_hash": loaded.spec_hash,
            "reference_sha256": ref_sha,
            "data_sha256": data_sha,
            "no_data": no_data,
            "options": self.options,
        }

    def _data(self) -> tuple[str, str]:
        """(the data manifest's hash, or '' with the reason the benchmarks are skipped)."""
        spec = self.assignment.spec
        if self.skip_benchmarks or not any(t.is_benchmark for t in spec.tasks):
            return "", ""
        # the data package imports torch: paid only by a batch that runs benchmarks
        from autograder.data.locations import resolve_data_root
        from autograder.errors import DataError

        root = resolve_data_root(self.data_root)
        if root is None or not root.is_dir():
            why = f"no data folder {root}" if root is not None else "no --data or AUTOGRADER_DATA"
            if self.options["require_data"]:
                raise DataError(f"the benchmark data is required: {why}")
            return "", f"skipped: benchmark data not available (the batch has {why})"
        manifest = shipping.DataManifest.of_folder(root)
        for rel, (sha, _) in manifest.files.items():
            self.blobs[sha] = (root / rel).read_bytes()
        blob = manifest.blob()
        self.blobs[shipping.sha256_bytes(blob)] = blob
        return manifest.sha256, ""

    def _check_workers(self, mine: dict[str, str]) -> str:
        """Every worker's versions against ``mine``; returns the engine fingerprint they share
        (the batch itself does not import the engine)."""
        from autograder.batch.cluster_worker import mismatch, worker_facts

        try:
            self.client.wait_for_workers(1, timeout=WAIT_SECONDS)
        except TimeoutError:
            raise ClusterError(
                f"no Dask worker joined the scheduler at {self.address} within "
                f"{WAIT_SECONDS:.0f} s; start some with 'dask worker {self.address} "
                "--nworkers N --nthreads 1'"
            ) from None
        wrong = []
        workers = sorted(self.client.run(worker_facts).items())
        for address, theirs in workers:
            differs = mismatch(mine, theirs)
            if differs:
                wrong.append(f"{address} ({theirs.get('host', '?')}): {differs}")
        engines = {theirs.get("engine", "?") for _, theirs in workers}
        if len(engines) > 1:
            wrong += [
                f"{address} ({theirs.get('host', '?')}): engine {theirs.get('engine', '?')[:16]}"
                for address, theirs in workers
            ]
        if wrong:
            raise ClusterError(
                "Dask workers that would grade differently from this batch or from each other: "
                + "; ".join(wrong)
                + f". Install autograder {mine['autograder']} and torch {mine['torch']} "
                f"(Python {mine['python']}) from the same build on every worker machine, and "
                "give each the course secret (AUTOGRADER_SECRET_FILE)"
            )
        return engines.pop()

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()

    # -- grading -------------------------------------------------------------------------------
    def grade(self, path: Path | str, *, display_name: str | None = None) -> Report:
        """Grade one file. Raises ``SubmissionError`` as ``Grader.grade`` does."""
        for _, outcome in self.grade_many([(display_name or str(path), path)]):
            if isinstance(outcome, SubmissionError):
                raise outcome
            return outcome
        raise AssertionError("grade_many yields one outcome per item")

    def grade_many(
        self, items: Iterable[tuple[str, Path | str]]
    ) -> Iterator[tuple[str, Report | SubmissionError]]:
        """Grade many files on the cluster; yields (key, outcome) in completion order.

        At most about two tasks per worker thread are queued at a time, so the scheduler holds
        a bounded number of submissions, and Ctrl-C leaves little to cancel.
        """
        from autograder.batch.cluster_worker import grade_task

        todo = iter(items)
        ready: deque[tuple[str, Report | SubmissionError]] = deque()
        running: dict[Any, _Item] = {}
        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()  # filled from Dask's threads
        workerless_since: float | None = None

        def send(item: _Item) -> None:
            name = f"autograder-{self.assignment.id}-{item.sha256[:12]}-{uuid.uuid4().hex[:8]}"
            future = self.client.submit(
                grade_task, self.request, item.key, item.source, key=name, pure=False
            )
            running[future] = item
            future.add_done_callback(finished.put)  # finished, failed or cancelled

        try:
            while True:
                while len(running) < self._window():
                    entry = next(todo, None)
                    if entry is None:
                        break
                    key, path = entry
                    try:
                        source = read_submission(path)
                    except SubmissionError as exc:
                        ready.append((key, exc))
                        continue
                    send(_Item(key, source, shipping.sha256_bytes(source)))
                while ready:
                    yield ready.popleft()
                if not running:
                    return
                try:
                    future = finished.get(timeout=1.0)
                except queue.Empty:
                    workerless_since = self._workerless(workerless_since, len(running))
                    continue
                item = running.pop(future)
                outcome = self._outcome(future, item)
                if outcome is None:
                    item.resubmits += 1
                    send(item)
                else:
                    yield item.key, outcome
        except BaseException:
            # Ctrl-C, a consumer that stopped early, or a stop: nothing left should run for us
            if running and self.client is not None:
                self.client.cancel(list(running))
            raise

    def _workerless(self, since: float | None, left: int) -> float | None:
        """When the cluster has had no worker since (None: it has some); stops the batch after
        ``WAIT_SECONDS`` without one, rather than wait for ever with tasks queued."""
        if self.client.nthreads():
            return None
        now = time.monotonic()
        if since is not None and now - since > WAIT_SECONDS:
            raise ClusterError(
                f"no Dask worker left at {self.address} for {WAIT_SECONDS:.0f} s, with {left} "
                "submissions queued; everything recorded so far is kept: start workers and "
                "rerun the batch"
            )
        return since if since is not None else now

    def _window(self) -> int:
        asked, threads = self._threads
        if time.monotonic() - asked > 1.0:
            threads = max(1, sum(self.client.nthreads().values()))
            self._threads = (time.monotonic(), threads)
        return 2 * threads

    def _outcome(self, future: Any, item: _Item) -> Report | SubmissionError | None:
        """What one finished task means for its submission; None: send it again."""
        if future.status == "cancelled":
            if item.resubmits >= MAX_RESUBMITS:
                return ClusterFailure(
                    f"its task on the cluster was cancelled {item.resubmits + 1} times "
                    "(the scheduler restarted?); not graded: rerun the batch to try again"
                )
            self._wait_for_scheduler()
            return None
        if future.status == "error":
            return self._failed_task(future.exception())
        try:
            text = future.result()
        except Exception as exc:  # noqa: BLE001 - e.g. an answer that was not a plain string
            return ClusterFailure(f"its answer from the cluster was unreadable: {exc}")
        if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
            return ClusterFailure("its answer from the cluster was not a report")
        return self._answer(text, item)

    def _wait_for_scheduler(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.client.status != "running":
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"lost the Dask scheduler at {self.address} for {WAIT_SECONDS:.0f} s; "
                    "everything recorded so far is kept: rerun the batch when it is back"
                )
            time.sleep(0.5)

    @staticmethod
    def _failed_task(exc: BaseException | None) -> ClusterFailure:
        if type(exc).__name__ == "KilledWorker":
            last = getattr(getattr(exc, "last_worker", None), "address", "?")
            tries = getattr(exc, "args", (None, None, None))[2]
            return ClusterFailure(
                f"the Dask worker grading it died {tries + 1 if isinstance(tries, int) else ''} "
                f"times (last {last}); not graded: rerun the batch to try again"
            )
        return ClusterFailure(f"its task failed on the cluster: {type(exc).__name__}: {exc}")

    def _answer(self, text: str, item: _Item) -> Report | SubmissionError:
        from autograder.batch.lanes import _error

        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return ClusterFailure("its answer from the cluster was not JSON")
        where = f"worker {answer.get('worker', '?')} ({answer.get('host', '?')})"
        if "refused" in answer:
            raise ClusterError(
                f"{where} refuses to grade {self.assignment.id}: {answer['refused']}"
            )
        if "error" in answer:
            exc = _error(answer["error"] if isinstance(answer["error"], dict) else {})
            if isinstance(exc, AutograderError) and not isinstance(
                exc, SubmissionError | WorkerProtocolError
            ):
                raise type(exc)(f"on {where}: {exc}")  # fails every student alike: stop
            return ClusterFailure(f"the grader failed on {where}: {exc}")
        try:
            report = Report.model_validate(answer.get("report"))
        except ValueError as exc:
            return ClusterFailure(f"{where} answered with an invalid report: {exc}"[:2000])
        expected = (item.sha256, self.assignment.spec_hash, self.assignment.id, __version__)
        got = (report.sha256, report.spec_hash, report.assignment, report.grader_version)
        if got != expected:
            return ClusterFailure(f"{where} answered with a report for another file or spec")
        return report
