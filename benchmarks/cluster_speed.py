"""What grading through Dask costs: the cluster path against local lanes on this machine.

Run from the repository root (needs ``pip install -e '.[cluster]'``)::

    python benchmarks/cluster_speed.py [--n 16] [--rounds 8] [--workers 2] [--json out.json]

It starts a ``distributed.LocalCluster`` (``--workers`` worker processes, 1 thread each, as
``dask worker --nworkers N --nthreads 1`` would) and ``--workers`` local lanes (what
``autograder batch --workers N`` runs), warms both (each worker's grader started, the reference
results cached), then grades the same ``--n`` Homework 1 submissions (numerical tasks only;
the reference solution and ``examples/hw1_student.py`` alternating) on each, in ``--rounds``
rounds in ABBA order, so both see the same drift of this VM's speed. Reported:

- throughput (submissions per minute) and wall time per submission on each path, medians over
  rounds; the cluster's wall time over the lanes' and its extra wall time per submission
  (cluster - lanes), each taken per round (the two ran back to back) and then the median;
- the Dask round trip alone: a no-op task carrying the same payload as a grading task (the
  request JSON with the spec text, and the submission's bytes), one at a time (latency) and
  with the same window of tasks in flight as a batch keeps (the scheduler's and workers' cost
  per task when several are queued);
- the batch's own cost per result, its one writer's ceiling: validating the answer with the
  ``Report`` model and committing it to a SQLite gradebook;
- the one-off costs: connecting and checking the workers, and the first grader start on a
  worker (torch import, zygote, cached reference).

Figures print as a table and go to ``benchmarks/results/cluster_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.batch import cluster  # noqa: E402
from autograder.batch.lanes import LaneGrader  # noqa: E402
from autograder.spec.load import load_assignment  # noqa: E402


def _payload_echo(request: str, key: str, source: bytes) -> str:
    """A task with a grading task's arguments and none of its work."""
    return json.dumps({"key": key, "bytes": len(source) + len(request)})


def _items(folder: Path, n: int) -> list[tuple[str, Path]]:
    sources = [ROOT / "reference_solutions" / "hw1.py", ROOT / "examples" / "hw1_student.py"]
    items = []
    for i in range(n):
        path = folder / f"s{i:03d}.py"
        # each file differs (a comment), as students' files do: no cache can help
        path.write_bytes(sources[i % 2].read_bytes() + f"\n# student {i}\n".encode())
        items.append((path.name, path))
    return items


def _timed(grader: Any, items: list[tuple[str, Path]]) -> float:
    t0 = time.perf_counter()
    scores = [getattr(r, "score", None) for _, r in grader.grade_many(items)]
    wall = time.perf_counter() - t0
    assert len(scores) == len(items) and None not in scores, "every submission graded"
    return wall


def _round_trips(client: Any, request: str, source: bytes, n: int, window: int) -> dict:
    from distributed import as_completed

    one = []
    for i in range(n):
        t0 = time.perf_counter()
        client.submit(_payload_echo, request, str(i), source, pure=False).result()
        one.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    todo = list(range(n))
    running = as_completed(loop=client.loop)
    inflight = 0
    while todo or inflight:
        while todo and inflight < window:
            running.add(client.submit(_payload_echo, request, str(todo.pop()), source, pure=False))
            inflight += 1
        next(running).result()
        inflight -= 1
    windowed = (time.perf_counter() - t0) / n
    return {"latency_s": statistics.median(one), "windowed_per_task_s": windowed}


def _writer_cost(grader: Any, items: list[tuple[str, Path]], folder: Path) -> dict:
    """The batch's own work per result (its one writer): read the answer, validate it with
    the ``Report`` model, commit it to a SQLite gradebook. It bounds any cluster's throughput."""
    from autograder.gradebook import open_gradebook

    answers = []
    for key, path in items:
        report = grader.grade(path, display_name=key)
        answers.append((key, json.dumps({"report": report.model_dump(mode="json")})))
    book = open_gradebook(str(folder / "writer.sqlite"))
    item = cluster._Item("", b"", "")
    t0 = time.perf_counter()
    for i, (key, text) in enumerate(answers * 4):
        item.sha256 = json.loads(text)["report"]["sha256"]
        report = grader._answer(text, item)
        book.record(report, student_id=f"s{i}", submitted_at=None, source=key)
    per = (time.perf_counter() - t0) / (4 * len(answers))
    book.close()
    return {"per_result_s": per, "ceiling_per_minute": 60 / per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/cluster_speed.json"))
    args = parser.parse_args()

    import tempfile

    from distributed import Client, LocalCluster

    loaded = load_assignment("hw1")
    folder = Path(tempfile.mkdtemp(prefix="cluster-speed-"))
    items = _items(folder, args.n)
    warm = items[: 2 * args.workers]
    out: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_average_start": os.getloadavg(),
        "n": args.n,
        "rounds": args.rounds,
        "workers": args.workers,
    }
    with LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        t0 = time.perf_counter()
        grader = cluster.ClusterGrader(
            loaded, address=local.scheduler_address, skip_benchmarks=True
        )
        grader.__enter__()
        out["connect_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _timed(grader, warm)
        out["first_graders_s"] = time.perf_counter() - t0
        with LaneGrader(loaded, workers=args.workers, skip_benchmarks=True) as lanes:
            _timed(lanes, warm)
            walls: dict[str, list[float]] = {"lanes": [], "cluster": []}
            for r in range(args.rounds):
                order = ["lanes", "cluster"] if r % 2 == 0 else ["cluster", "lanes"]
                for name in order:
                    walls[name].append(_timed(lanes if name == "lanes" else grader, items))
                print(
                    f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items())
                )
        with Client(local.scheduler_address, set_as_default=False) as client:
            source = items[0][1].read_bytes()
            out["dask_round_trip"] = _round_trips(
                client, grader.request, source, args.n, 2 * args.workers
            )
        out["batch_writer"] = _writer_cost(grader, items[:8], folder)
        grader.__exit__(None, None, None)
    out["load_average_end"] = os.getloadavg()
    for name, values in walls.items():
        wall = statistics.median(values)
        out[name] = {
            "wall_s_rounds": values,
            "per_minute": args.n / wall * 60,
            "wall_per_submission_s": wall / args.n,
        }
    # paired by round (measured back to back), so the VM's drift between rounds cancels out
    pairs = [c / lane for c, lane in zip(walls["cluster"], walls["lanes"], strict=True)]
    extras = [(c - lane) / args.n for c, lane in zip(walls["cluster"], walls["lanes"], strict=True)]
    extra = statistics.median(extras)
    out["cluster_over_lanes_wall_rounds"] = pairs
    out["cluster_over_lanes_wall"] = statistics.median(pairs)
    out["cluster_extra_wall_per_submission_s"] = extra

    rows = [
        ("lanes, per minute (median)", f"{out['lanes']['per_minute']:.0f}"),
        ("cluster, per minute (median)", f"{out['cluster']['per_minute']:.0f}"),
        (
            "cluster / lanes, wall time (median of rounds)",
            f"{out['cluster_over_lanes_wall']:.2f} (rounds {min(pairs):.2f}-{max(pairs):.2f})",
        ),
        ("extra wall per submission (cluster - lanes)", f"{extra * 1000:.0f} ms"),
        (
            "Dask round trip, one task at a time",
            f"{out['dask_round_trip']['latency_s'] * 1000:.1f} ms",
        ),
        (
            f"Dask cost per task, {2 * args.workers} in flight",
            f"{out['dask_round_trip']['windowed_per_task_s'] * 1000:.1f} ms",
        ),
        (
            "batch: validate + commit one result",
            f"{out['batch_writer']['per_result_s'] * 1000:.1f} ms "
            f"(at most {out['batch_writer']['ceiling_per_minute']:.0f} per minute)",
        ),
        ("connect and check workers", f"{out['connect_s']:.2f} s"),
        ("first graders on the workers", f"{out['first_graders_s']:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    print(f"saved {args.json}")


if __name__ == "__main__":
    main()
