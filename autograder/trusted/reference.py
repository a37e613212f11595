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

from autograder.trusted.raw import Execution, ProbeRaw
from autograder.version import __version__


def cache_dir() -> Path:
    """``$AUTOGRADER_CACHE/reference`` or ``~/.cache/autograder/reference``."""
    base = os.environ.get("AUTOGRADER_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "autograder"
    return root / "reference"


def engine_fingerprint() -> str:
    """Hash of the code that produces raw results (plan + worker): a change there invalidates caches."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted([root / "plan.py", *(root / "worker").glob("*.py")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(spec_hash: str, reference_file: Path, data_hash: str, tasks: list[str]) -> str:
    h = hashlib.sha256()
    parts = (
        spec_hash,
        hashlib.sha256(reference_file.read_bytes()).hexdigest(),
        data_hash,
        torch.__version__,
        __version__,
        engine_fingerprint(),
        ",".join(tasks),
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
