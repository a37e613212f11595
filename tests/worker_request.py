"""A one-probe worker request for tests that drive a ``Zygote`` directly.

The probe calls the submission's ``sigmoid`` on the request tensor ``x`` (pass it in the
tensors or a bundle) and returns its output as ``out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def sigmoid_request(path: Path | str, confine: dict[str, Any] | None = None) -> dict[str, Any]:
    probe = {
        "id": "a/c/0",
        "kind": "forward",
        "symbol": "sigmoid",
        "call": "function",
        "args": [{"t": "x", "grad": True}],
        "kwargs": {},
        "seed": 1,
    }
    return {
        "path": str(path),
        "module_name": "hw1",
        "threads": 1,
        "confine": confine or {},
        "tasks": [{"id": "a", "forbid": [], "probes": [probe]}],
    }
