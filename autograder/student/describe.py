"""The student-facing description of a homework, from its spec alone: ``autograder describe``.

Title, description, points; each public task with its points, symbols (signatures and docs),
the APIs it forbids (each entry with the public routes ``wire/apis.py`` expands it to) and its
checks; hidden tasks only as their count and points. Nothing here runs or imports student code
or torch, so any homework (and a student kit's public spec) is described the same way.

Trained-model checks (kind ``benchmark``) are described generically: their title and whichever
of ``recipe``, ``dataset``, ``metric``, ``tolerance``, ``floor``, ``budget_seconds``, ``params``
and ``credit`` the check model has, read with ``getattr``, so a new recipe or credit rule needs
no change here.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from autograder.errors import KitError
from autograder.points import fraction_str, shares
from autograder.spec.models import Assignment, Task
from autograder.student import forbid_text
from autograder.student.kit_layout import MANIFEST, SPEC_FILE, kit_folder

# Fields of a trained-model check worth telling a student, in this order, when the model has them.
TRAINED_FIELDS = (
    "recipe",
    "dataset",
    "metric",
    "tolerance",
    "floor",
    "budget_seconds",
    "params",
    "credit",
)


class Symbol(BaseModel):
    name: str
    kind: str
    signature: str
    base: str = ""
    doc: str = ""


class Forbidden(BaseModel):
    entry: str  # as the spec writes it
    routes: list[str]  # the public names it stands for


class Check(BaseModel):
    id: str
    kind: str
    title: str = ""
    symbol: str | None = None
    points: str  # exact, "p/q"
    cases: list[str] = []  # labels of what is called, in order
    details: dict[str, Any] = {}  # kind-specific facts (tests, steps, a trained model's recipe)


class TaskDescription(BaseModel):
    id: str
    title: str
    points: str
    symbols: list[Symbol]
    forbid: list[Forbidden]
    forbid_summary: str
    checks: list[Check]


class Description(BaseModel):
    """What ``describe`` prints, and its ``--json`` form."""

    id: str
    title: str
    description: str
    points: str
    student_file: str
    tasks: list[TaskDescription]
    hidden_tasks: int
    hidden_points: str


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a field's value (pydantic models, fractions, tuples)."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json", exclude_defaults=False))
    if isinstance(value, Fraction):
        return fraction_str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def _cases(spec: Assignment, check: Any) -> list[str]:
    cases = getattr(check, "cases", None)
    if cases is not None:
        found = spec.cases[cases] if isinstance(cases, str) else cases
        return [case.label or f"case {i + 1}" for i, case in enumerate(found)]
    configs = getattr(check, "configs", None)
    if configs is not None:
        return [c.label or json.dumps(_plain(c.kwargs)) for c in configs]
    steps = getattr(check, "steps", None)
    if isinstance(steps, list):
        modes = getattr(check, "modes", [])
        return [f"step {i + 1} ({mode} mode)" for i, mode in enumerate(modes)]
    return []


def _details(check: Any) -> dict[str, Any]:
    if check.kind == "benchmark":
        fields = TRAINED_FIELDS
    else:
        fields = ("tests", "sample", "expect", "trainable")
    return {
        name: _plain(getattr(check, name))
        for name in fields
        if getattr(check, name, None) not in (None, {}, [], "")
    }


def _task(spec: Assignment, task: Task) -> TaskDescription:
    weights = [check.weight for check in task.checks]
    return TaskDescription(
        id=task.id,
        title=task.title,
        points=fraction_str(task.points),
        symbols=[
            Symbol(name=s.name, kind=s.kind, signature=s.signature, base=s.base, doc=s.doc)
            for s in task.symbols
        ],
        forbid=[Forbidden(entry=e, routes=forbid_text.routes(e)) for e in task.forbid],
        forbid_summary=forbid_text.summary(task.forbid),
        checks=[
            Check(
                id=check.id,
                kind=check.kind,
                title=getattr(check, "title", "") or "",
                symbol=getattr(check, "symbol", None),
                points=fraction_str(points),
                cases=_cases(spec, check),
                details=_details(check),
            )
            for check, points in zip(task.checks, shares(task.points, weights), strict=True)
        ],
    )


def describe(
    spec: Assignment, *, hidden_tasks: int | None = None, hidden_points: Fraction | None = None
) -> Description:
    """The description of ``spec``'s public tasks. Hidden tasks are counted from ``spec``
    unless given (a kit's public spec has none left; its manifest counts them)."""
    hidden = [t for t in spec.tasks if t.visibility == "hidden"]
    if hidden_tasks is None:
        hidden_tasks = len(hidden)
        hidden_points = sum((t.points for t in hidden), Fraction(0))
    public_points = sum((t.points for t in spec.tasks if t.visibility == "public"), Fraction(0))
    return Description(
        id=spec.id,
        title=spec.title,
        description=" ".join(spec.description.split()),
        points=fraction_str(public_points + Fraction(hidden_points or 0)),
        student_file=spec.student_file,
        tasks=[_task(spec, t) for t in spec.tasks if t.visibility == "public"],
        hidden_tasks=hidden_tasks,
        hidden_points=fraction_str(Fraction(hidden_points or 0)),
    )


def describe_kit(path: Path) -> Description:
    """The description from a student kit's public spec and manifest (no torch, no course).

    Raises:
        KitError: Not a kit, or its spec or manifest is unreadable.
    """
    folder = kit_folder(Path(path))
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        spec = Assignment.model_validate_json((folder / SPEC_FILE).read_text(encoding="utf-8"))
        hidden = int(manifest.get("hidden_tasks", 0))
        hidden_points = Fraction(str(manifest.get("hidden_points", "0")))
    except (OSError, ValueError, TypeError) as exc:
        raise KitError(f"{folder}: cannot read the kit's spec or manifest: {exc}") from None
    return describe(spec, hidden_tasks=hidden, hidden_points=hidden_points)
