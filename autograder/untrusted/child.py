"""The per-submission worker: confine, import the submission, run its probes, stream frames.

Runs in a process forked from the zygote (never in the grader). It reads one request frame,
applies the confinement layers, imports the submitted file under a fixed module name, and for each
task emits ``task_start``, one ``probe`` frame per probe (outputs as safetensors), ``task_end``.
Everything it writes is a claim; the trusted side decides what it is worth.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import time
import traceback
from typing import Any

import torch

from autograder.untrusted import confine
from autograder.untrusted.failures import BudgetExceeded, ProbeError
from autograder.untrusted.guard import (
    ForbiddenAPIError,
    Guard,
    check_integrity,
    prepare_union,
    reset,
)
from autograder.untrusted.runners import run_probe
from autograder.wire import apis
from autograder.wire import frames as wire
from autograder.wire import source as submission_source

_MAX_MESSAGE = 2000
_MAX_VIOLATIONS = 50
# Every guard this worker made: one left on in a thread the student started (at import, or in an
# earlier probe) still records there, and what it records is charged to the probe running now.
_GUARDS: list[Guard] = []


def _short(text: str) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 20] + " ...(truncated)"


def _read_request(fd: int) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    with os.fdopen(fd, "rb", closefd=True) as f:
        head = f.read(8)
        length = int.from_bytes(head, "little")
        body = f.read(length)
    return wire.decode_body(body)


def _student_trace(exc: BaseException, path: str) -> str:
    """The traceback lines that point into the student's file, plus the exception itself."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    where = f" (line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _peak_rss_kb() -> int | None:
    """This process's resident-set high-water mark (VmHWM), shared zygote pages included."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _guard_changed() -> list[str]:
    """What student code did to the guard between two checks (restored now), as findings."""
    changed = check_integrity()
    reset()
    return [apis.GUARD_PATCHED] if changed else []


def _import(path: str, name: str, forbid_lists: list[list[str]]) -> tuple[Any, dict[str, Any]]:
    """Import the submission under the runtime guard of every task's forbid list at once.

    The guard only records at import (nothing raises into module-level code); each forbidden
    call is sent with the line of the module-level statement that made it, and the trusted side
    attributes it. The module runs the text the trusted side scanned: the file's bytes decoded
    by ``wire.source`` and compiled from that text, never re-read through a coding cookie.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None, {
            "ok": False,
            "error": f"cannot load {os.path.basename(path)} as a Python module",
        }
    try:
        with open(path, "rb") as f:
            text = submission_source.decode(f.read())
    except (OSError, submission_source.SourceError) as exc:
        return None, {"ok": False, "error": _short(str(exc))}
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    guard = Guard(prepare_union(forbid_lists), source=path, record_only=True)
    _GUARDS.append(guard)
    outcome: dict[str, Any] = {"ok": True}
    try:
        code = compile(text, path, "exec", dont_inherit=True)
        with guard:
            exec(code, module.__dict__)  # noqa: S102 - this is the worker: it runs the submission
    except SyntaxError as exc:
        return None, {"ok": False, "error": f"SyntaxError: {exc.msg} (line {exc.lineno})"}
    except SystemExit as exc:
        return None, {
            "ok": False,
            "error": f"the module called sys.exit({exc.code!r}) while being imported",
        }
    except BaseException as exc:  # noqa: BLE001 - any student exception is a report, not a crash
        return None, {"ok": False, "error": _short(_student_trace(exc, path))}
    finally:
        guard.close()
        calls = guard.import_calls + [(n, 0) for n in _guard_changed()]
        outcome["violations"] = [[n, line] for n, line in calls[:_MAX_VIOLATIONS]]
    return module, outcome


def _run_task(
    module: Any, task: dict[str, Any], tensors: dict[str, torch.Tensor], path: str, send, send_raw
) -> None:
    send({"type": "task_start", "task": task["id"]})
    # A task's probe frames go out in one write at its end: one wake-up of the grader per task,
    # not per probe. Nothing is lost by waiting: a task that does not end scores nothing.
    frames: list[bytes] = []
    # One guard per task; its watch list was built in the zygote (``Zygote.prepare_guards``).
    guard = Guard(task.get("forbid", []), source=path)
    _GUARDS.append(guard)
    for header in task["probes"]:
        guard.violations = []
        status, message, outputs, facts, seconds = "ok", "", {}, {}, 0.0
        start = time.perf_counter()
        try:
            outputs, facts, seconds = run_probe(module, header, tensors, guard)
        except ForbiddenAPIError as exc:
            status, message = "forbidden API", str(exc)
        except BudgetExceeded as exc:
            status, message = "timeout", str(exc)
        except ProbeError as exc:
            status, message = exc.status, exc.message
        except NotImplementedError as exc:
            status, message = (
                "not implemented",
                f"{header.get('symbol')} raises NotImplementedError{': ' + str(exc) if str(exc) else ''}",
            )
        except SystemExit as exc:
            status, message = "error", f"called sys.exit({exc.code!r})"
        except RecursionError:
            status, message = "error", "RecursionError: maximum recursion depth exceeded"
        except MemoryError:
            status, message = "memory limit exceeded", "MemoryError while running"
        except BaseException as exc:  # noqa: BLE001
            status, message = "error", _short(_student_trace(exc, path))
        # what a guard left on in the student's threads saw meanwhile, if this task forbids it
        late = [
            v
            for g in _GUARDS
            if g is not guard
            for v in g.violations
            if guard.forbids(v) or apis.is_tampering(v)
        ]
        for g in _GUARDS:
            if g is not guard:
                g.violations = []
        for name in [*late, *_guard_changed()]:
            if name not in guard.violations:
                guard.violations.append(name)
        if guard.violations and status != "forbidden API":
            # the student caught our exception (or switched the guard off): the call happened
            status, message = (
                "forbidden API",
                f"forbidden API {apis.display(guard.violations[0])}",
            )
        frame = {
            "type": "probe",
            "id": header["id"],
            "status": status,
            "message": message,
            "facts": facts,
            "violations": guard.violations,
            "seconds": seconds or time.perf_counter() - start,
        }
        try:
            encoded = wire.encode(frame, outputs if status == "ok" else None)
        except Exception as exc:  # noqa: BLE001 - e.g. a complex, sparse or meta tensor
            kinds = ", ".join(
                sorted({f"{t.dtype}/{t.layout}/{t.device}" for t in outputs.values()})
            )
            frame.update(
                status="error",
                message=_short(f"returned a tensor that cannot be compared ({kinds}): {exc}"),
            )
            encoded = wire.encode(frame)
        frames.append(encoded)
    guard.violations = []  # sent with their probes: not to be collected again as "late"
    frames.append(wire.encode({"type": "task_end", "task": task["id"]}))
    send_raw(b"".join(frames))


def main(
    request_fd: int, result_fd: int, bundles: dict[str, dict[str, torch.Tensor]] | None = None
) -> None:
    """Entry point in the forked child. Never returns: exits with os._exit.

    ``bundles`` are the zygote's preloaded input tensors; the request names those it needs.
    """
    result = os.fdopen(result_fd, "wb", buffering=0)

    def send_raw(data: bytes) -> None:
        view = memoryview(data)
        while view:  # a signal can cut a large pipe write short
            view = view[result.write(view) :]

    def send(header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> None:
        send_raw(wire.encode(header, tensors))

    try:
        # One thread until confined: with OMP_NUM_THREADS > 1, decoding the request's large
        # tensors would start the intra-op pool, and Landlock binds only the calling thread.
        torch.set_num_threads(1)
        request, tensors = _read_request(request_fd)
        for key in request.get("bundles", []):
            if key not in (bundles or {}):
                raise RuntimeError(f"input bundle {key} was not preloaded into the zygote")
            tensors.update(bundles[key])
        layers = confine.apply(request.get("confine", {}))
        torch.set_num_threads(int(request.get("threads", 1)))
        send(
            {
                "type": "hello",
                "pid": os.getpid(),
                "layers": layers,
                "threads": torch.get_num_threads(),
            }
        )
        path, name = request["path"], request["module_name"]
        # Student prints go to the captured stdout, never into our result stream.
        sys.stdin = io.StringIO()
        module, outcome = _import(path, name, [list(t.get("forbid", [])) for t in request["tasks"]])
        send({"type": "import", **outcome})
        if module is not None:
            for task in request["tasks"]:
                _run_task(module, task, tensors, path, send, send_raw)
        send({"type": "done", "peak_rss_kb": _peak_rss_kb()})
        result.flush()
    except BaseException:  # noqa: BLE001 - our own bug: tell the parent, it is not the student's fault
        try:
            send({"type": "worker_error", "error": _short(traceback.format_exc())})
        except BaseException:  # noqa: BLE001
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(0)
