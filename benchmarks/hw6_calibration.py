"""Calibration of Homework 6's two benchmarks (explicit and implicit ALS on MovieLens 100K).

Trains each benchmark's recipe with the reference solution's components, outside the sandbox
(the same worker code a grader runs, with a guard that forbids nothing), and measures it with
the trusted half, exactly as grading does:

- the spread over initialisations: ``--orders`` runs with the development secret's split, each
  with another secret-derived generator for the initial item factors (what a correct submission
  meets under another course secret, split apart);
- the spread over course secrets: ``--splits`` other held-out splits, each with two orders (the
  reference's own value moves with the split; the credit is relative to it);
- determinism: the first run again, compared value for value and tensor for tensor;
- baselines measured by the same trusted code: the global mean as factors (a rank-1 model
  that predicts the mean rating everywhere), each movie's mean training rating, and for the
  ranking, the training popularity of each movie and random scores;
- the benchmark mutants of ``tests/mutants/hw6_benchmark`` (no regularisation, unobserved
  ratings taken as zeros, implicit ALS without the unobserved entries), over the first two
  orders.

Prints one line per run and a summary, and writes JSON (CPU seconds of training, from the
recipe's own count, so a busy machine slows the wall clock only).

    AUTOGRADER_DATA=../shared/data .venv/bin/python benchmarks/hw6_calibration.py \
        --json benchmarks/results/hw6_calibration.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import torch

from autograder.data import movielens
from autograder.data.dataset import DataContext
from autograder.spec.load import load_assignment
from autograder.trusted.metrics import ndcg_at_k, recall_at_k
from autograder.trusted.plan import build_plan
from autograder.trusted.recipes import Trained, recipe
from autograder.trusted.recipes import als as als_recipe
from autograder.trusted.recipes import implicit_als as implicit_recipe
from autograder.trusted.secret import course_secret
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes import run_benchmark

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from recipe_runs import (  # noqa: E402
    machine_line,
    module_from_source,
    order_seed,
    outputs_digest,
    overlay_modules,
    spread,
)

REFERENCE = ROOT / "reference_solutions" / "hw6.py"
MUTANTS = ROOT / "tests" / "mutants" / "hw6_benchmark"
CHECKS = {"explicit": ("benchmark-explicit", "rmse"), "implicit": ("benchmark-implicit", "ranking")}


class Bench:
    """One benchmark check of hw6 with its probe header, on one split at a time."""

    def __init__(self, which: str, path: Path) -> None:
        spec = load_assignment("hw6").spec
        self.task_id, self.check_id = CHECKS[which]
        self.check = next(c for c in spec.task(self.task_id).checks if c.id == self.check_id)
        self.path = path
        secret = course_secret()
        self.dev_seed = secret.seed(spec.id, self.check.dataset, "split")
        splits = movielens.load_splits(path, self.dev_seed)
        plan = build_plan(
            spec,
            include={self.task_id},
            secret=secret,
            data_info={self.check.dataset: splits.info},
        )
        self.header = next(p for p in plan.tasks[self.task_id] if p.check == self.check_id).header
        self.recipe = recipe(self.check.recipe)
        self.params = self.recipe.params.model_validate(self.header["params"])
        self._splits: dict[int, Any] = {self.dev_seed: splits}

    def splits(self, split_seed: int):
        if split_seed not in self._splits:
            self._splits[split_seed] = movielens.load_splits(self.path, split_seed)
        return self._splits[split_seed]

    def run(self, module: types.ModuleType, split_seed: int, order: str) -> dict[str, Any]:
        splits = self.splits(split_seed)
        header = {**self.header, "data_info": splits.info, "order_seed": order_seed(order)}
        tensors = {f"data|{self.check.dataset}|{k}": v for k, v in splits.train.items()}
        t0 = time.process_time()
        outputs, facts = run_benchmark(module, header, tensors, Guard([]))
        cpu = time.process_time() - t0
        values = self.recipe.measure(
            Trained(outputs, facts, splits.held_out, splits.info, self.params)
        )
        return {
            "split_seed": split_seed,
            "order": order,
            "values": values,
            "train_cpu_seconds": round(cpu, 3),
            "outputs_sha256": outputs_digest(outputs),
        }


def baselines(bench: Bench, split_seed: int) -> dict[str, float]:
    """What models that learn nothing personal reach, measured by the same trusted code."""
    splits = bench.splits(split_seed)
    info, train, held = splits.info, splits.train, splits.held_out
    n_users, n_items = info["users"], info["items"]
    mean = float(train["ratings"].double().mean())
    as_factors = {
        "user_factors": torch.full((n_users, 1), mean**0.5, dtype=torch.float64),
        "item_factors": torch.full((n_items, 1), mean**0.5, dtype=torch.float64),
    }
    out: dict[str, float] = {}
    out["rmse_global_mean"] = als_recipe.measure(
        Trained({f"state.{k}": v for k, v in as_factors.items()}, {}, held, info, None)
    )["rmse"]
    sums = torch.zeros(n_items, dtype=torch.float64).index_add_(
        0, train["items"], train["ratings"].double()
    )
    counts = torch.bincount(train["items"], minlength=n_items).double()
    item_mean = torch.where(counts > 0, sums / counts.clamp(min=1), mean)
    pred = item_mean[held["items"]]
    out["rmse_item_mean"] = float(torch.sqrt(((pred - held["ratings"].double()) ** 2).mean()))
    exclude = implicit_recipe.masks(held["train_users"], held["train_items"], n_users, n_items)
    relevant = implicit_recipe.masks(held["users"], held["items"], n_users, n_items)
    popularity = counts[None, :].expand(n_users, n_items)
    noise = torch.rand(n_users, n_items, generator=torch.Generator().manual_seed(0)).double()
    for name, scores in (("popularity", popularity), ("random", noise)):
        out[f"ndcg_{name}"] = ndcg_at_k(scores, relevant, 10, exclude)
        out[f"recall_{name}"] = recall_at_k(scores, relevant, 10, exclude)
    return out


def _summary(runs: list[dict[str, Any]], metric: str) -> dict[str, float]:
    values = [r["values"][metric] for r in runs]
    return {**spread(values), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=8)
    parser.add_argument("--splits", type=int, default=4)
    parser.add_argument("--mutant-orders", type=int, default=2)
    parser.add_argument("--data", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = movielens.find_ratings(DataContext(args.data, 0))
    reference = module_from_source(REFERENCE.read_text(), "hw6_reference")
    overlays = overlay_modules("hw6", REFERENCE.read_text(), MUTANTS)
    benches = {which: Bench(which, path) for which in CHECKS}
    metrics = {which: list(bench.recipe.produces) for which, bench in benches.items()}
    result: dict[str, Any] = {
        "machine": machine_line(),
        "data": str(path),
        "params": {w: b.header["params"] for w, b in benches.items()},
    }
    dev = benches["explicit"].dev_seed
    other_splits = [1_000 + i for i in range(args.splits)]
    for which, bench in benches.items():
        runs = [bench.run(reference, dev, f"order-{i}") for i in range(args.orders)]
        for run in runs:
            print(which, "dev split", run["order"], run["values"], run["train_cpu_seconds"], "s")
        again = bench.run(reference, dev, "order-0")
        same = again["values"] == runs[0]["values"]
        same_state = again["outputs_sha256"] == runs[0]["outputs_sha256"]
        print(which, "again:", "identical" if same and same_state else "DIFFERENT")
        split_runs = [bench.run(reference, s, f"order-{i}") for s in other_splits for i in range(2)]
        for run in split_runs:
            print(which, "split", run["split_seed"], run["order"], run["values"])
        mutants = {}
        for stem, module in overlays.items():
            if not stem.startswith(f"{which}_"):
                continue
            mutant_runs = []
            for i in range(args.mutant_orders):
                try:
                    mutant_runs.append(bench.run(module, dev, f"order-{i}"))
                except Exception as exc:  # noqa: BLE001 - a broken model may fail outright
                    mutant_runs.append({"error": f"{type(exc).__name__}: {exc}"[:200]})
            for run in mutant_runs:
                print(which, "mutant", stem, run.get("values", run.get("error")))
            mutants[stem] = mutant_runs
        result[which] = {
            "orders": runs,
            "summary": {m: _summary(runs, m) for m in metrics[which]},
            "rerun_identical": same and same_state,
            "splits": split_runs,
            "splits_summary": {m: _summary(split_runs, m) for m in metrics[which]},
            "mutants": mutants,
            "train_cpu_seconds_max": max(r["train_cpu_seconds"] for r in runs + split_runs),
        }
    result["baselines"] = {str(s): baselines(benches["explicit"], s) for s in [dev, *other_splits]}
    for split, values in result["baselines"].items():
        print("baselines", split, {k: round(v, 4) for k, v in values.items()})
    for which in CHECKS:
        print(which, "summary", result[which]["summary"], "splits", result[which]["splits_summary"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
