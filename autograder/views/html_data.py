"""What the TA report shows for one assignment, computed from the gradebook before any HTML
or plot is drawn: score distribution, per-task outcome rates, benchmark metrics and curves, the
slowest submissions and the failures to grade."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from autograder.export.sheet import GradeSheet, build_sheet
from autograder.gradebook import Attempt, Gradebook, Policy

SLOWEST = 10


@dataclass
class TaskRate:
    id: str
    title: str
    passed: float
    partial: float
    failed: float
    mean_fraction: float
    ran: int = 0
    skipped: int = 0


@dataclass
class Benchmark:
    """One trained-model check over every graded student: each metric it credits and each
    curve its training recorded, with the reference recipe's beside them."""

    check: str
    curves: dict[str, list[list[float]]] = field(default_factory=dict)
    reference_curves: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=dict)
    reference_values: dict[str, float] = field(default_factory=dict)
    # metric names whose values are fractions in [0, 1] (accuracy, IoU)
    unit: set[str] = field(default_factory=set)


@dataclass
class Section:
    """What the page shows for one assignment, computed before any HTML is written."""

    sheet: GradeSheet
    scores: list[float]
    rates: list[TaskRate]
    slowest: list[Attempt]
    failures: list[Attempt]
    counted_ids: set[int]
    benchmarks: list[Benchmark]
    attempts: int
    images: dict[str, str] = field(default_factory=dict)


def _rates(sheet: GradeSheet) -> list[TaskRate]:
    """Outcome shares per task among graded students that ran it (``skipped`` tasks, such as
    benchmarks under --skip-benchmarks, are left out); hardest first, all-skipped last."""
    graded = [s for s in sheet.students if s.status == "graded"]
    rates = []
    for index, column in enumerate(sheet.tasks):
        ran = [s.tasks[index] for s in graded if s.tasks[index].status != "skipped"]
        statuses = [t.status for t in ran]
        n = len(statuses) or 1
        passed = statuses.count("passed") / n
        partial = statuses.count("partial") / n
        scores = [
            float(t.score / column.max_score)
            for t in ran
            if t.score is not None and column.max_score
        ]
        rates.append(
            TaskRate(
                column.id,
                column.title,
                passed,
                partial,
                (1 - passed - partial) if statuses else 0.0,
                statistics.fmean(scores) if scores else 0.0,
                ran=len(ran),
                skipped=len(graded) - len(ran),
            )
        )
    return sorted(rates, key=lambda r: (r.ran == 0, r.passed, r.mean_fraction))


def _benchmarks(sheet: GradeSheet) -> list[Benchmark]:
    """Every trained-model check's metrics and curves, from whatever each report carries."""
    found: dict[str, Benchmark] = {}
    for student in sheet.students:
        report = student.attempt.report
        if student.status != "graded" or report is None:
            continue
        for task in report.tasks:
            for check in task.checks:
                metrics = _trained_metrics(check.metrics or {})
                if metrics is None:
                    continue
                bench = found.setdefault(f"{task.id} / {check.id}", Benchmark(check.id))
                for name, curve in metrics["curves"].items():
                    if _numbers(curve):
                        bench.curves.setdefault(name, []).append(_numbers(curve))
                for name, curve in metrics["reference_curves"].items():
                    if _numbers(curve):
                        bench.reference_curves.setdefault(name, _numbers(curve))
                for entry in metrics["credit"]:
                    name, value, ref = (
                        entry.get("metric"),
                        entry.get("value"),
                        entry.get("reference"),
                    )
                    if not isinstance(name, str) or not isinstance(value, int | float):
                        continue
                    bench.values.setdefault(name, []).append(float(value))
                    if isinstance(ref, int | float):
                        bench.reference_values[name] = float(ref)
                    if entry.get("unit"):
                        bench.unit.add(name)
    for name, bench in found.items():
        bench.check = name
    return list(found.values())


def _trained_metrics(metrics: dict) -> dict | None:
    """A check's metrics in the trained-model form (``credit``, ``curves``), or None.

    Reports written before that form (``loss_curve``, ``accuracy``) are read too.
    """
    if isinstance(metrics.get("credit"), list):
        return {
            "credit": [e for e in metrics["credit"] if isinstance(e, dict)],
            "curves": metrics.get("curves") if isinstance(metrics.get("curves"), dict) else {},
            "reference_curves": metrics.get("reference_curves")
            if isinstance(metrics.get("reference_curves"), dict)
            else {},
        }
    if not any(k in metrics for k in ("loss_curve", "accuracy")):
        return None
    credit = []
    if isinstance(metrics.get("accuracy"), int | float):
        credit.append(
            {
                "metric": "accuracy",
                "value": metrics["accuracy"],
                "reference": metrics.get("reference_accuracy"),
                "unit": True,
            }
        )
    return {
        "credit": credit,
        "curves": {"loss": metrics.get("loss_curve")},
        "reference_curves": {"loss": metrics.get("reference_loss_curve")},
    }


def _numbers(value: object) -> list[float]:
    if not isinstance(value, list) or not value:
        return []
    if not all(isinstance(v, int | float) for v in value):
        return []
    return [float(v) for v in value]


def collect(gradebook: Gradebook, assignment: str, policy: Policy = "latest") -> Section:
    """Everything the report shows for one assignment."""
    sheet = build_sheet(gradebook, assignment, policy)
    history = gradebook.attempts(assignment)
    counted = {s.attempt.id for s in sheet.students} | {a.id for a in sheet.unidentified}
    return Section(
        sheet=sheet,
        scores=[
            float(s.total) for s in sheet.students if s.status == "graded" and s.total is not None
        ],
        rates=_rates(sheet),
        slowest=sorted(
            (a for a in history if a.report is not None), key=lambda a: a.seconds, reverse=True
        )[:SLOWEST],
        failures=[a for a in history if a.status == "failed to grade"],
        counted_ids=counted,
        benchmarks=_benchmarks(sheet),
        attempts=len(history),
    )
