"""Train a trained-model check's recipe with a homework's reference components, in this
process, and measure it with the check's trusted recipe: what calibration scripts repeat over
seeds. Course staff code only (the reference solution is imported here), never a submission.

    from recipe_runs import Calibration
    cal = Calibration("hw1", "benchmark-catdog", "mlp")
    run = cal.run(seed_offset=0, order="0")   # {"values": {...}, "train_seconds": ...}

Also what the calibration scripts share around it: the reference (or an overlay of it) as a
module, a digest of trained outputs, the spread of a metric over runs, the machine line, and
``SecretBench``, a benchmark task runnable under the development secret or a calibration one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import platform
import statistics
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from autograder.data.registry import load
from autograder.spec.load import load_assignment
from autograder.trusted import fixtures
from autograder.trusted.plan import build_plan
from autograder.trusted.probe import derive_seed
from autograder.trusted.recipes import Trained, expose, recipe
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


def module_from_source(source: str, name: str) -> ModuleType:
    """Our own reference (or overlay of it) as a module: trusted test data, not a submission."""
    module = ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def overlay_modules(hw: str, reference_text: str, folder: Path) -> dict[str, ModuleType]:
    """Each overlay of ``folder`` (mutants or alternatives) applied to the reference, by stem."""
    from mutants.overlay import apply_overlay  # tests/ is on the calling script's path

    return {
        path.stem: module_from_source(
            apply_overlay(reference_text, path.read_text()), f"{hw}_{path.stem}"
        )
        for path in sorted(folder.glob("*.py"))
    }


def outputs_digest(outputs: dict[str, torch.Tensor]) -> str:
    """A short hash of trained outputs, key by key: equal only for the same tensors."""
    h = hashlib.sha256()
    for key in sorted(outputs):
        h.update(key.encode())
        h.update(outputs[key].contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def spread(values: list[float]) -> dict[str, float]:
    """Mean, standard deviation (0 for one value), min and max."""
    return {
        "mean": statistics.mean(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def machine_line() -> str:
    return (
        f"{platform.machine()}, {platform.processor() or 'cpu'}, Python "
        f"{platform.python_version()}, torch {torch.__version__}, one thread per run"
    )


class SecretBench:
    """One benchmark task of a spec (its first check), trained and measured under the
    development secret (``secret`` 0) or calibration secret ``secret``: another held-out split
    and training order, derived from the task's id."""

    def __init__(self, spec: Any, task_id: str) -> None:
        self.spec, self.task = spec, spec.task(task_id)
        self.check = self.task.checks[0]
        self.recipe = recipe(self.check.recipe)
        self.params = self.recipe.params.model_validate(self.check.params)
        self._data: dict[int, Any] = {}
        self.secret_name = task_id

    def secret_data(self, secret: int) -> tuple[Any, dict[str, Any]]:
        """The splits and the probe header under ``secret`` (loaded once)."""
        if secret not in self._data:
            split_seed = course_secret().seed(self.spec.id, self.check.dataset, "split")
            if secret:
                split_seed = derive_seed("calibration", self.secret_name, secret, "split")
            splits = load(self.check.dataset, None, split_seed)
            plan = build_plan(
                self.spec, include={self.task.id}, data_info={self.check.dataset: splits.info}
            )
            self._data[secret] = (splits, plan.tasks[self.task.id][0].header)
        return self._data[secret]

    def train(
        self, module: ModuleType, seed_offset: int, secret: int = 0, **updates: dict[str, Any]
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any], Trained]:
        """One training (seed + ``seed_offset``; each of ``updates`` merged into that header
        entry, e.g. ``params`` or ``components``): the outputs, the facts, and the ``Trained``
        the recipe measures."""
        splits, header = self.secret_data(secret)
        header = {**header, "seed": header["seed"] + seed_offset}
        for key, change in updates.items():
            if change:
                header[key] = {**header[key], **change}
        if secret:
            header["order_seed"] = derive_seed("calibration", self.secret_name, secret, "order")
        tensors = {f"data|{self.check.dataset}|{k}": v for k, v in splits.train.items()}
        outputs, facts = run_benchmark(module, header, tensors, Guard([]))
        trained = Trained(outputs, facts, splits.held_out, splits.info, self.params)
        return outputs, facts, trained


def import_overlay(hw: str, overlay: Path) -> ModuleType:
    """The reference with ``overlay`` written over it (a benchmark mutant), as a module built in
    memory like ``overlay_modules``' (no file at a guessable path in /tmp)."""
    from mutants.overlay import build  # tests/ is on the calling script's path

    source = build(ROOT / "reference_solutions" / f"{hw}.py", overlay)
    return module_from_source(source, f"{hw}_{overlay.stem}")


def order_seed(order: str) -> int:
    """A training order's seed from its name."""
    return int.from_bytes(hashlib.sha256(order.encode()).digest()[:7], "little")


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
        # held-out inputs the recipe exposes, in the course secret's order, as the engine sends
        self.order, exposed = expose(
            self.splits.held_out,
            self.recipe.exposes,
            secret.seed(self.loaded.spec.id, self.check.dataset, "expose"),
        )
        self.tensors = {
            f"data|{self.check.dataset}|{k}": v for k, v in {**self.splits.train, **exposed}.items()
        }
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
        """Train once (seed + ``seed_offset``; ``order`` varies the training order; each of
        ``header`` replaces that header entry, e.g. ``params``) and measure."""
        h = {**self.header, **header, "seed": self.header["seed"] + seed_offset}
        if order:
            h["order_seed"] = order_seed(order)
        t0 = time.process_time()
        outputs, facts = run_benchmark(module, h, dict(self.tensors), Guard([]))
        cpu = time.process_time() - t0
        params = self.recipe.params.model_validate(h["params"])
        held, info = self.splits.held_out, self.splits.info
        values = self.recipe.measure(
            Trained(outputs, facts, held, info, params, self.order, self.fixtures)
        )
        return {
            "seed_offset": seed_offset,
            "order": order,
            "values": values,
            "train_cpu_seconds": round(cpu, 3),
            "curves": {k: v.tolist() for k, v in outputs.items() if k.startswith("curve.")},
            "outputs_sha256": outputs_digest(outputs),
            "threads": torch.get_num_threads(),
        }

    def seed_runs(self, module: ModuleType, seeds: int, metric: str, label: str) -> dict[str, Any]:
        """``seeds`` runs (seed + i, training order i), then the first one again, each printed
        under ``label``: the runs, ``metric``'s spread over the first ``seeds``, their training
        CPU seconds, and whether the rerun's trained tensors are identical."""
        runs = []
        for i in [*range(seeds), 0]:
            run = self.run(module, seed_offset=i, order=str(i))
            runs.append(run)
            print(
                f"{label} seed +{i}: {metric} {run['values'][metric]:.4f}, "
                f"train {run['train_cpu_seconds']:.2f} s CPU",
                flush=True,
            )
        return {
            "runs": runs,
            metric: spread([r["values"][metric] for r in runs[:-1]]),
            "train_cpu_seconds": [r["train_cpu_seconds"] for r in runs],
            "deterministic": runs[0]["outputs_sha256"] == runs[-1]["outputs_sha256"],
        }
