"""Outcomes -> points -> a Report. Pure functions over plain data; nothing here runs code.

Each task's points are split over its checks by weight. A check earns its share times its
outcome's fraction (all cases must pass, except the benchmark's linear credit). A forbidden API
costs the checks it is charged to (``forbidden.charges``: the checks whose symbol reaches the
call, or whose probe made it), nothing else. Hidden tasks show the student their status and
score, never inputs or diffs.
"""

from __future__ import annotations

from fractions import Fraction

from autograder.points import display_points, fraction_str
from autograder.report import CheckResult, TaskResult
from autograder.spec.models import Task
from autograder.trusted import forbidden as forbidden_api
from autograder.trusted.checks import Outcome
from autograder.trusted.forbidden import Finding

# From least to most informative when summarising a failed task.
_SEVERITY = [
    "passed",
    "skipped",
    "partial",
    "failed",
    "error",
    "not implemented",
    "missing symbol",
    "timeout",
    "memory limit exceeded",
    "output too large",
    "crashed",
    "forbidden API",
    "import error",
    "grader error",
]


def check_points(task: Task) -> list[Fraction]:
    """Each check's share of the task's points, exact, summing to the task's points."""
    weights = [Fraction(str(c.weight)) for c in task.checks]
    total = sum(weights, Fraction(0))
    return [task.points * w / total for w in weights]


def task_result(
    task: Task,
    outcomes: list[Outcome],
    *,
    forbidden: dict[str, list[Finding]] | None = None,
    failure: tuple[str, str] | None = None,
    skipped: str | None = None,
    seconds: float = 0.0,
) -> TaskResult:
    """Score one task from its checks' outcomes (or one whole-task failure).

    ``forbidden``: check id -> the findings that cost that check its points.
    """
    shares = check_points(task)
    checks: list[CheckResult] = []
    hidden = task.visibility == "hidden"
    charged = {
        check_id: forbidden_api.message(found)
        for check_id, found in (forbidden or {}).items()
        if found
    }
    for check, share, outcome in zip(task.checks, shares, outcomes, strict=True):
        if skipped:
            outcome = Outcome(Fraction(0), "skipped", skipped)
        elif failure:
            outcome = Outcome(Fraction(0), failure[0], failure[1])
        elif check.id in charged:
            outcome = Outcome(
                Fraction(0), "forbidden API", charged[check.id], outcome.detail, outcome.metrics
            )
        points = share * outcome.fraction
        checks.append(
            CheckResult(
                id=check.id,
                kind=check.kind,
                symbol=check.symbol,
                score=display_points(points),
                max_score=display_points(share),
                score_exact=fraction_str(points),
                max_score_exact=fraction_str(share),
                status=outcome.status,
                message="" if hidden and outcome.status not in ("skipped",) else outcome.message,
                detail=outcome.detail if not hidden else "",
                metrics=outcome.metrics,
            )
        )
    score = sum((Fraction(c.score_exact) for c in checks), Fraction(0))
    status, message = _summarise(task, checks, charged, failure, skipped)
    return TaskResult(
        id=task.id,
        title=task.title,
        symbols=[s.name for s in task.symbols],
        visibility=task.visibility,
        score=display_points(score),
        max_score=display_points(task.points),
        score_exact=fraction_str(score),
        max_score_exact=fraction_str(task.points),
        status=status,
        message=message,
        checks=checks,
        seconds=round(seconds, 4),
    )


def _summarise(
    task: Task,
    checks: list[CheckResult],
    charged: dict[str, str],
    failure: tuple[str, str] | None,
    skipped: str | None,
) -> tuple[str, str]:
    if skipped:
        return "skipped", skipped
    if failure:
        return failure[0], failure[1]
    if charged and all(c.id in charged for c in checks):
        # every check pays: the task's own status, with each distinct reason once
        return "forbidden API", "; ".join(dict.fromkeys(charged.values()))
    failed = [c for c in checks if c.status != "passed"]
    if not failed:
        notes = [c.message for c in checks if c.message]
        if notes and task.visibility == "public":
            return "passed", "; ".join(notes)
        return "passed", f"all {len(checks)} checks passed"
    worst = max(failed, key=lambda c: _SEVERITY.index(c.status) if c.status in _SEVERITY else 0)
    if len(failed) < len(checks) or any(c.status == "partial" for c in checks):
        status = "partial"
    else:
        status = worst.status
    summary = f"{len(checks) - len(failed)} of {len(checks)} checks passed"
    if task.visibility == "hidden":
        statuses = sorted({c.status for c in failed})
        return (
            status,
            f"{summary} (hidden task: details are not shown; failing: {', '.join(statuses)})",
        )
    details = "; ".join(f"{c.id}: {c.message}" for c in failed[:3] if c.message)
    more = f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""
    return status, f"{summary}. {details}{more}".strip()
