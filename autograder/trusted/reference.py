"""Reference results: the plan run on the reference solution once, then cached on disk.

The reference goes through the same worker code as a student (same calls, same seeds, same
forbidden-API guard, so a reference that leans on a forbidden built-in is caught here too). The
cache is keyed by the spec hash, the reference file's hash, the benchmark data's hash, the torch
version and the grader version, so changing any of them recomputes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from autograder.trusted.probe import Plan
from autograder.trusted.raw import Execution, ProbeRaw
from autograder.version import __version__


def cache_dir() -> Path:
    """``$AUTOGRADER_CACHE/reference`` or ``~/.cache/autograder/reference``."""
    base = os.environ.get("AUTOGRADER_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "autograder"
    return root / "reference"


# Everything that can change a raw result: the worker side, the wire format, how probes and
# their inputs are built, and the dataset loaders (paths relative to the package).
FINGERPRINTED = (
    "untrusted",
    "wire",
    "data",
    "sandbox/layers.py",
    "trusted/plan.py",
    "trusted/planners.py",
    "trusted/probe.py",
    "trusted/kinds.py",
)


def fingerprinted_files(root: Path | None = None) -> list[Path]:
    """The source files ``engine_fingerprint`` hashes, in a fixed order."""
    root = root or Path(__file__).resolve().parent.parent
    files: list[Path] = []
    for entry in FINGERPRINTED:
        path = root / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def engine_fingerprint(root: Path | None = None) -> str:
    """Hash of the code that produces raw results: a change there invalidates cached ones."""
    root = root or Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in fingerprinted_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def plan_digest(plan: Plan) -> str:
    """Hash of every probe's header and input tensors: seeds (the secret's among them),
    recipe params and inputs, so any change to what the reference would be asked changes it."""
    h = hashlib.sha256()
    for probe in plan.probes():
        h.update(json.dumps(probe.header, sort_keys=True, default=str).encode())
        for key in sorted(probe.tensors):
            tensor = probe.tensors[key].contiguous()
            h.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
            h.update(
                tensor.numpy().tobytes()
                if tensor.dtype != torch.bool
                else tensor.to(torch.uint8).numpy().tobytes()
            )
    return h.hexdigest()


def cache_key(
    spec_hash: str, reference_file: Path, data_hash: str, tasks: list[str], plan: str = ""
) -> str:
    h = hashlib.sha256()
    parts = (
        spec_hash,
        hashlib.sha256(reference_file.read_bytes()).hexdigest(),
        data_hash,
        torch.__version__,
        __version__,
        engine_fingerprint(),
        ",".join(tasks),
        plan,
    )
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def save(path: Path, execution: Execution) -> None:
    """Write the reference execution atomically as one safetensors file with JSON metadata."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, dict] = {}
    for probe_id, raw in execution.probes.items():
        meta[probe_id] = {
            "status": raw.status,
            "message": raw.message,
            "facts": raw.facts,
            "seconds": raw.seconds,
        }
        for name, tensor in raw.outputs.items():
            tensors[f"{probe_id}|{name}"] = tensor.contiguous()
    metadata = {"probes": json.dumps(meta), "failures": json.dumps(execution.task_failures)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> Execution | None:
    """The cached execution, or None when absent or unreadable (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
        meta = json.loads(metadata["probes"])
        failures = json.loads(metadata.get("failures", "{}"))
    except Exception:  # a truncated or foreign file: recompute rather than trust it
        return None
    execution = Execution(task_failures={k: tuple(v) for k, v in failures.items()})
    for probe_id, info in meta.items():
        outputs = {
            k.split("|", 1)[1]: v for k, v in tensors.items() if k.split("|", 1)[0] == probe_id
        }
        execution.probes[probe_id] = ProbeRaw(
            info["status"],
            info.get("message", ""),
            outputs,
            info.get("facts", {}),
            [],
            info.get("seconds", 0.0),
        )
    return execution
