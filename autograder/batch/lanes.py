"""Batch grading on several grader processes ("lanes"), one warm worker slot each.

``Grader(workers=N)`` scores on N threads of one Python process, and the threads take turns on
the interpreter lock for most of what they do between two children (reading results, scoring,
AST scan, staging): about 40 ms of grader CPU per Homework 1 submission. On 2 cores that lost
3-5% (lanes beat threads in 29 of 32 back-to-back rounds); on many cores one process would cap
the batch, whatever the core count, near one submission per 40 ms of its own time.
``LaneGrader`` runs N grader processes instead (``main`` below), each a ``Grader(workers=1)``.

Lanes are trusted grader code: they never import student code (that stays in each lane's own
sandboxed workers) and they send every ``Report`` back as JSON, which the batch validates with
the same pydantic model, so the gradebook, the progress bar and the resume logic stay in the
batch's process. A lane costs one more ``import torch`` (about 0.5 GB of private memory).

Protocol, one JSON object per line: the batch writes ``{"key", "path"}`` on a lane's stdin;
the lane answers ``{"ready": true}`` once started, then per request ``{"key", "report"}``,
``{"key", "submission_error"}`` (the file cannot be read), or ``{"key", "error": {"type",
"message"}}`` (the grader failed: raised in the batch, as ``Grader.grade_many`` would).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from autograder import errors
from autograder.errors import AutograderError, SubmissionError
from autograder.report import Report

# Grader options a lane can take from the batch (plain JSON values).
LANE_OPTIONS = frozenset({"skip_benchmarks", "data_root", "require_data", "insecure", "threads"})
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # holds the autograder package
# this autograder, whether installed or run from a checkout, and whatever the working directory
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from autograder.batch.lanes import main; raise SystemExit(main(sys.argv[2:]))"
)


def grader_for(assignment: Any, *, workers: int = 1, **options: Any) -> Any:
    """The batch's grader: lanes for several workers, an in-process ``Grader`` otherwise.

    Lanes need a spec that a new process can load again (a ``LoadedAssignment`` read from a
    file) and options it can receive as JSON; anything else is graded on threads.
    """
    if workers > 1 and _lane_ready(assignment, options):
        return LaneGrader(assignment, workers=workers, **options)
    from autograder.trusted.engine import Grader  # imported late: it pulls in torch

    return Grader(assignment, workers=workers, **options)


def _lane_ready(assignment: Any, options: dict[str, Any]) -> bool:
    path = getattr(assignment, "path", None)
    if not isinstance(path, Path) or not path.is_file() or not getattr(assignment, "spec_hash", ""):
        return False
    if not set(options) <= LANE_OPTIONS:
        return False
    try:
        json.dumps(options)
    except (TypeError, ValueError):
        return False
    return True


class GraderProcessError(RuntimeError):
    """A lane crashed, or raised something other than an ``AutograderError``.

    Not an ``AutograderError``: like a crash of an in-process grader, the batch grades the rest
    one by one in fresh graders and records the culprit, instead of stopping.
    """


def _error(payload: dict[str, Any]) -> Exception:
    """The exception a lane reported: our own errors keep their class (a spec or data error
    still stops the batch), anything else is a ``GraderProcessError``."""
    kind = getattr(errors, str(payload.get("type")), None)
    message = str(payload.get("message", "the grader failed"))
    if isinstance(kind, type) and issubclass(kind, AutograderError):
        return kind(message)
    return GraderProcessError(f"{payload.get('type')}: {message}")


class _Lane:
    """One lane process and its pipes."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.log = tempfile.TemporaryFile()  # its stderr: kept off the batch's progress bar
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _PACKAGE_PARENT, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )

    def ask(self, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send ``message`` (if any) and read one answer; raises if the lane is gone."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        try:
            if message is not None:
                stdin.write(json.dumps(message).encode() + b"\n")
                stdin.flush()
            line = stdout.readline()
        except (BrokenPipeError, ValueError, OSError):
            line = b""
        if not line:
            raise GraderProcessError(f"a grader process stopped ({self.tail()})")
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise GraderProcessError(f"a grader process answered {line[:200]!r}")
        return answer

    def tail(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.log.seek(0)
        text = self.log.read()[-2000:].decode(errors="replace").strip()
        return f"exit status {code}; {text or 'no output'}"

    def stop(self, *, now: bool) -> None:
        if self.proc.poll() is None:
            if now:
                self.proc.terminate()  # the lane's Grader closes its workers on SIGTERM
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()  # EOF: the lane finishes and exits
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self.log.close()


class LaneGrader:
    """``Grader``'s batch interface (context manager, ``grade``, ``grade_many``) over lanes.

    Enter it from a thread that outlives the grading: each lane dies with the thread that
    started it (PR_SET_PDEATHSIG), so that a killed batch never leaves lanes behind.
    """

    def __init__(self, assignment: Any, *, workers: int, **options: Any) -> None:
        self.assignment = assignment
        self.workers = max(1, workers)
        course = getattr(assignment, "course", None)
        self.config = {
            "spec": str(Path(assignment.path).resolve()),
            "spec_hash": assignment.spec_hash,
            "course": str(course.root) if course is not None else None,
            "parent": os.getpid(),
            "options": options,
        }
        self.lanes: list[_Lane] = []

    def __enter__(self) -> LaneGrader:
        try:
            # all at once: on a cold cache each lane computes the reference results, in
            # parallel (about the time of one); the cache's atomic writes keep one copy
            self.lanes = [_Lane(self.config) for _ in range(self.workers)]
            for lane in self.lanes:
                answer = lane.ask()
                if "error" in answer:
                    raise _error(answer["error"])
                if not answer.get("ready"):
                    raise AutograderError(f"a grader process did not start ({lane.tail()})")
        except BaseException:
            self._stop(now=True)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop(now=exc[0] is not None)

    def _stop(self, *, now: bool) -> None:
        lanes, self.lanes = self.lanes, []
        for lane in lanes:
            lane.stop(now=now)

    @staticmethod
    def _outcome(answer: dict[str, Any]) -> Report | SubmissionError:
        if "report" in answer:
            return Report.model_validate(answer["report"])
        if "submission_error" in answer:
            return SubmissionError(str(answer["submission_error"]))
        raise _error(answer.get("error") or {"message": f"unexpected answer {answer!r:.200}"})

    def grade(self, path: Path | str, *, display_name: str | None = None) -> Report:
        """Grade one file on the first lane. Raises SubmissionError as ``Grader.grade`` does."""
        request = {"key": display_name or str(path), "path": str(Path(path).resolve())}
        outcome = self._outcome(self.lanes[0].ask(request))
        if isinstance(outcome, SubmissionError):
            raise outcome
        return outcome

    def grade_many(
        self, items: Iterable[tuple[str, Path | str]]
    ) -> Iterator[tuple[str, Report | SubmissionError]]:
        """Grade many files on all lanes; yields (key, Report) in completion order."""
        todo = iter(items)
        take = threading.Lock()
        # (key, outcome), or (None, the exception that stopped a lane), or None: a lane is done
        results: queue.Queue[tuple[str | None, Any] | None] = queue.Queue()

        def serve(lane: _Lane) -> None:
            try:
                while True:
                    with take:
                        item = next(todo, None)
                    if item is None:
                        return
                    key, path = item
                    answer = lane.ask({"key": key, "path": str(Path(path).resolve())})
                    results.put((key, self._outcome(answer)))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                results.put((None, exc))
            finally:
                results.put(None)

        threads = [threading.Thread(target=serve, args=(lane,), daemon=True) for lane in self.lanes]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                got = results.get()
                if got is None:
                    running -= 1
                    continue
                key, outcome = got
                if key is None:
                    raise outcome
                yield key, outcome
        except BaseException:
            # Ctrl-C, a consumer that stopped early, or a grader failure: stop the lanes' runs
            # now rather than waiting out their time budgets (the lanes are not reused)
            self._stop(now=True)
            raise
        for thread in threads:
            thread.join()


# -- the lane process ----------------------------------------------------------------------------
def _answer(out: IO[bytes], message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc)}


def main(argv: list[str]) -> int:
    """Serve grading requests from stdin on one warm worker slot until EOF."""
    import ctypes

    config = json.loads(argv[0])
    # die with the batch: a SIGKILLed batch must not leave lanes grading on
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != config.get("parent"):
        return 1  # the batch died before the death signal was armed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle

    def terminate(*_: object) -> None:
        raise SystemExit(143)  # unwinds through Grader.__exit__: workers closed

    signal.signal(signal.SIGTERM, terminate)
    # answers go to the original stdout; anything printed on the way goes to stderr
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        from autograder.spec.course import Course
        from autograder.spec.load import load_spec_file

        course = Course(Path(config["course"])) if config.get("course") else None
        loaded = load_spec_file(Path(config["spec"]), course)
        if loaded.spec_hash != config.get("spec_hash"):
            # its reports would carry another spec hash than the batch records them under
            raise AutograderError(
                f"{config['spec']} changed while the batch was starting; rerun the batch"
            )
        from autograder.trusted.engine import Grader  # torch: after the cheap checks

        grader = Grader(loaded, workers=1, **config["options"])
        grader.__enter__()
    except Exception as exc:  # noqa: BLE001 - reported to the batch, which raises it
        _answer(out, {"error": _failure(exc)})
        return 1
    try:
        _answer(out, {"ready": True})
        for line in sys.stdin.buffer:
            request = json.loads(line)
            key = request.get("key")
            try:
                report = grader.grade(Path(request["path"]), display_name=key)
                _answer(out, {"key": key, "report": report.model_dump(mode="json")})
            except SubmissionError as exc:
                _answer(out, {"key": key, "submission_error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - the batch raises it, as grade_many would
                _answer(out, {"key": key, "error": _failure(exc)})
    finally:
        grader.__exit__(None, None, None)
    return 0
