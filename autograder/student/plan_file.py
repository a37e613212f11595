"""A plan as one data file: probe headers as JSON metadata, input tensors as safetensors.

Safe to load from anywhere (no pickle, no code): this is how a student kit carries the public
probes' inputs, so the student's worker gets exactly the tensors the reference was run on.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from autograder.errors import KitError
from autograder.spec.models import Assignment
from autograder.trusted.probe import Plan, Probe


def save_plan(path: Path, plan: Plan) -> None:
    """Probe headers as JSON metadata and their input tensors under ``<probe id>|<name>``."""
    tensors: dict[str, torch.Tensor] = {}
    probes = []
    for probe in plan.probes():
        probes.append(
            {"id": probe.id, "task": probe.task, "check": probe.check, "header": probe.header}
        )
        for key, tensor in probe.tensors.items():
            tensors[key] = tensor.contiguous()
    save_file(
        tensors, str(path), metadata={"assignment": plan.assignment, "probes": json.dumps(probes)}
    )


def load_plan(path: Path, spec: Assignment) -> Plan:
    """Inverse of :func:`save_plan`, tasks in spec order; ``KitError`` if it does not read back."""
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
        entries = json.loads(metadata["probes"])
        tasks: dict[str, list[Probe]] = {t.id: [] for t in spec.tasks}
        for entry in entries:
            prefix = f"{entry['id']}|"
            own = {k: v for k, v in tensors.items() if k.startswith(prefix)}
            tasks[entry["task"]].append(
                Probe(entry["id"], entry["task"], entry["check"], entry["header"], own)
            )
    except Exception as exc:  # any malformation: the kit is unusable, say which file
        raise KitError(
            f"{path}: cannot read the kit's probes ({type(exc).__name__}: {exc})"
        ) from None
    return Plan(spec.id, {task_id: probes for task_id, probes in tasks.items() if probes})
