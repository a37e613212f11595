"""The Dask worker's side of cluster grading: one warm grader per worker process, fed bytes.

``GraderHost`` is a Dask worker plugin that the batch registers (once per worker: idempotent,
and the scheduler hands it to workers that join later). It keeps one ``Grader`` and its zygotes
for the worker process's lifetime and replaces it only when a task names another spec,
reference, data or options. ``grade_task`` is the task function. Student code never runs in the
Dask worker process: the grader runs it in its zygote's sandboxed children, exactly as locally.

What crosses Dask is built by trusted code on both ends: a task receives a JSON request (spec
text and hashes), its key and the submission's bytes, and returns a JSON string, never an object
to unpickle: ``{"report": ...}``, ``{"refused": why}`` or ``{"error": {"type", "message"}}``,
each with ``host`` and ``worker`` (the worker's address).

A worker refuses, rather than grade against anything but what the batch holds, when its
autograder or torch version or its course secret differs from the batch's, when its engine
(the code that produces raw results) differs from the other workers', when it reads the spec text to another
spec hash than the batch (another autograder build behind the same version), or when a file it
was told to fetch is missing or does not match its hash.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from distributed import Variable, WorkerPlugin, get_client, get_worker

from autograder.batch import shipping
from autograder.version import __version__

_log = logging.getLogger(__name__)
PLUGIN_NAME = "autograder-grader"
PROTOCOL = 1
# How long a worker waits for a file from the batch before refusing.
FETCH_SECONDS = 60.0


class Refusal(Exception):
    """This worker cannot grade the request as the batch would; the message says why and how
    to fix the worker."""


def facts() -> dict[str, str]:
    """What must match between the batch and every worker (cheap: no torch import).

    The course secret (by its fingerprint, which reveals nothing) decides held-out splits and
    training orders: a worker with another secret, or none, would grade trained checks on
    other examples."""
    from autograder.trusted.secret import course_secret

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"
    secret = course_secret()
    return {
        "autograder": __version__,
        "torch": torch_version,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "course secret": "public development secret" if secret.public else secret.fingerprint,
    }


@functools.cache
def _engine() -> str:
    """The hash of the code that produces raw results (imports torch: workers only)."""
    from autograder.trusted.reference import engine_fingerprint

    return engine_fingerprint()


def worker_facts() -> dict[str, str]:
    """What a worker answers when the batch connects: ``facts()``, its engine's fingerprint
    (every worker must have the same) and its machine's name."""
    return {**facts(), "engine": _engine(), "host": socket.gethostname()}


def mismatch(batch: dict[str, str], worker: dict[str, str]) -> str:
    """'' when ``worker`` may grade for ``batch``, else what differs, in words."""
    wrong = [
        f"{name} {worker.get(name, '?')[:16]} (the batch has {batch[name][:16]})"
        for name in sorted(batch)
        if worker.get(name) != batch[name]
    ]
    return ", ".join(wrong)


def _fetch(sha256: str) -> bytes:
    """The bytes the batch published under this hash (through the scheduler)."""
    try:
        value = Variable(shipping.blob_name(sha256), client=get_client()).get(timeout=FETCH_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a timeout or a lost scheduler: refuse, say which
        raise Refusal(
            f"no copy of the file with sha256 {sha256} here, and none came from the batch "
            f"within {FETCH_SECONDS:.0f} s ({type(exc).__name__})"
        ) from None
    if not isinstance(value, bytes):
        raise Refusal(f"the batch's copy of {sha256} is not bytes")
    return value


def _own_data_root() -> Path | None:
    """This machine's own data root (its AUTOGRADER_DATA, else ../shared/data), if any."""
    from autograder.data.locations import resolve_data_root  # the data package imports torch

    root = resolve_data_root(None)
    return root if root is not None and root.is_dir() else None


class GraderHost(WorkerPlugin):
    """Holds a Dask worker process's warm grader; see the module docstring."""

    idempotent = True  # registering again (the next batch) keeps the warm grader
    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        # Dask's sampling profiler holds the grading thread's frames (100 times a second, from
        # the event loop): their locals outlive a return, so a frame reader's buffer can stay
        # exported and fail to resize (the likely cause of a BufferError seen twice in a few
        # hundred gradings on Dask workers, never in lanes). It also costs CPU the grading
        # needs; grading workers do without it.
        for name in ("profile", "profile-cycle"):
            callback = worker.periodic_callbacks.pop(name, None)
            if callback is not None:
                callback.stop()
        self.address = str(worker.address)
        self.slots = max(1, int(getattr(worker.state, "nthreads", 1)))
        self.host = socket.gethostname()
        self._turn = threading.Condition()
        self._users = 0
        self._key = ""
        self._grader: Any = None

    def teardown(self, worker: Any) -> None:
        with self._turn:
            self._close()

    def _close(self) -> None:
        grader, self._grader, self._key = self._grader, None, ""
        if grader is not None:
            grader.__exit__(None, None, None)

    def grade(self, request_text: str, key: str, source: bytes) -> dict[str, Any]:
        """Grade one submission's bytes as the request says; never raises."""
        where = {"host": self.host, "worker": self.address}
        try:
            request = json.loads(request_text)
            self._check(request)
            with self._using(request) as grader:
                report = grader.grade_source(source, key)
            isolation = {**report.isolation, "host": self.host, "dask_worker": self.address}
            report = report.model_copy(update={"isolation": isolation})
            return {"report": report.model_dump(mode="json"), **where}
        except Refusal as exc:
            return {"refused": str(exc), **where}
        except Exception as exc:  # noqa: BLE001 - sent to the batch as data, never pickled
            _log.exception("grading %s failed", key)  # the traceback stays in the worker's log
            return {"error": {"type": type(exc).__name__, "message": str(exc)}, **where}

    @staticmethod
    def _check(request: dict[str, Any]) -> None:
        if request.get("protocol") != PROTOCOL:
            raise Refusal(
                f"the batch speaks cluster protocol {request.get('protocol')}, this worker "
                f"{PROTOCOL}: install the batch's autograder version here"
            )
        wrong = mismatch(request["versions"], {**facts(), "engine": _engine()})
        if wrong:
            raise Refusal(
                f"this worker has {wrong}: install the same versions on every worker machine "
                "and give each the course secret (AUTOGRADER_SECRET_FILE)"
            )

    @contextmanager
    def _using(self, request: dict[str, Any]) -> Iterator[Any]:
        """The warm grader for this request, started (or replaced) first if need be."""
        key = json.dumps(
            [request[k] for k in ("spec_hash", "reference_sha256", "data_sha256", "options")]
            + [request.get("no_data", "")],
            sort_keys=True,
        )
        with self._turn:
            if self._key != key:
                # another spec, reference, data or options: never graded with the old grader
                while self._users:
                    self._turn.wait()
                self._close()
                self._grader = self._start(request)
                self._key = key
            grader = self._grader
            self._users += 1
        try:
            yield grader
        except Exception:
            with self._turn:
                if self._grader is grader and self._users == 1:
                    self._close()  # a grader-side failure: start afresh for the next task
            raise
        finally:
            with self._turn:
                self._users -= 1
                self._turn.notify_all()

    def _start(self, request: dict[str, Any]) -> Any:
        from autograder.spec.course import Course
        from autograder.spec.load import load_spec_file, parse_spec

        store = shipping.Store(shipping.store_root(), _fetch)
        try:
            spec = parse_spec(Path(request["spec_name"]), request["spec_text"])
            folder = store.course(
                spec.id, request["spec_text"], spec.reference, request["reference_sha256"]
            )
            course = Course(folder)
            loaded = load_spec_file(course.spec_path(spec.id), course)
        except shipping.ShippingError as exc:
            raise Refusal(str(exc)) from None
        if loaded.spec_hash != request["spec_hash"]:
            raise Refusal(
                f"the spec text of {spec.id} hashes to {loaded.spec_hash[:12]} on this worker but "
                f"to {request['spec_hash'][:12]} on the batch: this worker's autograder reads "
                "specs differently (another build behind the same version?); install the "
                "batch's autograder here"
            )
        options = dict(request["options"])
        skip: dict[str, str] = {}
        if request["data_sha256"]:
            try:
                data = store.data_root(request["data_sha256"], _own_data_root())
            except shipping.ShippingError as exc:
                raise Refusal(str(exc)) from None
            options["data_root"] = str(data)
        elif request.get("no_data"):
            # the batch found no data: its benchmarks are skipped here too, whatever data this
            # machine holds, so every worker grades alike
            skip = {t.id: request["no_data"] for t in loaded.spec.tasks if t.is_benchmark}
        from autograder.trusted.engine import Grader  # torch: after the cheap checks

        grader = Grader(loaded, workers=self.slots, skip=skip, **options)
        grader.__enter__()
        return grader


def grade_task(request: str, key: str, source: bytes) -> str:
    """The Dask task: grade ``source`` on this worker's warm grader; a JSON string back."""
    worker = get_worker()
    host = worker.plugins.get(PLUGIN_NAME)
    if not isinstance(host, GraderHost):
        answer: dict[str, Any] = {
            "refused": "the autograder plugin is not set up on this worker",
            "host": socket.gethostname(),
            "worker": str(worker.address),
        }
    else:
        answer = host.grade(request, key, source)
    return json.dumps(answer)
