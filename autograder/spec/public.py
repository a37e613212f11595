"""The public view of an assignment: what students may see and their own machine can check.

Hidden tasks, and the case sets only they use, are removed; the points become the public total;
the id stays. Benchmarks stay public but cannot be checked off the course server (their score
needs the held-out test labels), so they are skipped there with ``SERVER_ONLY`` as the reason.
Used by student kits and by ``submit``'s local checks.
"""

from __future__ import annotations

from fractions import Fraction

from autograder.errors import KitError
from autograder.points import fraction_str
from autograder.spec.load import LoadedAssignment, spec_hash
from autograder.spec.models import Assignment

SERVER_ONLY = "skipped: runs on the course server (a kit holds no benchmark test labels)"


def public_spec(spec: Assignment) -> Assignment:
    """``spec`` without hidden tasks and their case sets; same id, points = the public total."""
    data = spec.model_dump(mode="json")
    data["tasks"] = [t for t in data["tasks"] if t["visibility"] == "public"]
    if not data["tasks"]:
        raise KitError(f"{spec.id}: every task is hidden; a kit would check nothing")
    used = {
        c["cases"] for t in data["tasks"] for c in t["checks"] if isinstance(c.get("cases"), str)
    }
    data["cases"] = {name: cases for name, cases in data["cases"].items() if name in used}
    data["points"] = fraction_str(sum((Fraction(t["points"]) for t in data["tasks"]), Fraction(0)))
    return Assignment.model_validate(data)


def public_assignment(loaded: LoadedAssignment) -> LoadedAssignment:
    """The public view of a course assignment, still graded against the course's reference."""
    spec = public_spec(loaded.spec)
    return LoadedAssignment(
        spec, loaded.path, loaded.course, spec_hash(spec), loaded.reference_path
    )


def server_only(spec: Assignment) -> dict[str, str]:
    """Tasks a student machine cannot grade (benchmarks), with the reason shown for them."""
    return {t.id: SERVER_ONLY for t in spec.tasks if t.is_benchmark}
