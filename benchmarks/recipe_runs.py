"""Train a trained-model check's recipe with a homework's reference components, in this
process, and measure it with the check's trusted recipe: what calibration scripts repeat over
seeds. Course staff code only (the reference solution is imported here), never a submission.

    from recipe_runs import Calibration
    cal = Calibration("hw1", "benchmark-catdog", "mlp")
    run = cal.run(seed_offset=0, order="0")   # {"values": {...}, "train_seconds": ...}
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from autograder.data.registry import load
from autograder.spec.load import load_assignment
from autograder.trusted import fixtures
from autograder.trusted.plan import build_plan
from autograder.trusted.recipes import HeldOut, Trained, recipe
from autograder.trusted.secret import course_secret
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes import run_benchmark

ROOT = Path(__file__).resolve().parents[1]


def import_reference(hw: str, path: Path | None = None) -> ModuleType:
    path = path or ROOT / "reference_solutions" / f"{hw}.py"
    spec = importlib.util.spec_from_file_location(hw, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Calibration:
    """One trained-model check of one homework, its data loaded once."""

    def __init__(self, hw: str, task_id: str, check_id: str, data_root: str | None = None):
        self.loaded = load_assignment(hw)
        self.task = self.loaded.spec.task(task_id)
        self.check = next(c for c in self.task.checks if c.id == check_id)
        secret = course_secret()
        self.splits = load(
            self.check.dataset,
            data_root,
            secret.seed(self.loaded.spec.id, self.check.dataset, "split"),
        )
        # the fixtures the check names, built (or read from the cache) as the engine does
        built = {}
        for name in self.check.fixtures:
            entry = fixtures.fixture(name)
            source = self.splits
            if entry.dataset != self.check.dataset:
                seed = secret.seed(self.loaded.spec.id, entry.dataset, "split")
                source = load(entry.dataset, data_root, seed)
            built[name] = fixtures.load_or_build(name, source)
        plan = build_plan(
            self.loaded.spec,
            include={task_id},
            secret=secret,
            data_info={self.check.dataset: self.splits.info},
            fixtures=built,
        )
        probe = next(p for p in plan.tasks[task_id] if p.check == check_id)
        self.header = probe.header
        self.recipe = recipe(self.check.recipe)
        self.params = self.recipe.params.model_validate(self.header["params"])
        self.tensors = {f"data|{self.check.dataset}|{k}": v for k, v in self.splits.train.items()}
        self.tensors.update(probe.tensors)
        self.fixtures = {
            name: (
                {
                    k.split("|", 2)[2]: v
                    for k, v in probe.tensors.items()
                    if k.startswith(f"fixture|{name}|")
                },
                info,
            )
            for name, info in (self.header.get("fixtures") or {}).items()
        }

    def run(
        self, module: ModuleType, *, seed_offset: int = 0, order: str = "", **header: Any
    ) -> dict[str, Any]:
        """Train once (seed + ``seed_offset``; ``order`` varies the training order) and measure."""
        h = {**self.header, **header, "seed": self.header["seed"] + seed_offset}
        if order:
            h["order_seed"] = int.from_bytes(hashlib.sha256(order.encode()).digest()[:7], "little")
        t0 = time.process_time()
        outputs, facts = run_benchmark(module, h, dict(self.tensors), Guard([]))
        cpu = time.process_time() - t0
        held = HeldOut(self.splits.held_out, self.splits.info)
        values = self.recipe.measure(
            Trained(outputs, facts, held.tensors, held.info, self.params, held.order, self.fixtures)
        )
        state = b"".join(
            t.contiguous().numpy().tobytes() for k, t in sorted(outputs.items()) if t.numel()
        )
        return {
            "seed_offset": seed_offset,
            "order": order,
            "values": values,
            "train_cpu_seconds": round(cpu, 3),
            "curves": {k: v.tolist() for k, v in outputs.items() if k.startswith("curve.")},
            "outputs_sha256": hashlib.sha256(state).hexdigest()[:16],
            "threads": torch.get_num_threads(),
        }
