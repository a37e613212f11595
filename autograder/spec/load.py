"""Reading assignment specs from TOML into validated models, with located errors.

Every problem comes out as one ``SpecError`` naming the file, the field path (with task and
check ids where known) and the problem. A spec whose points disagree with the course rubric is a
load error too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import SpecError
from autograder.spec.course import Course, find_course
from autograder.spec.locate import parse_toml
from autograder.spec.models import Assignment


@dataclass(frozen=True)
class LoadedAssignment:
    """A validated spec with where it came from and the hashes that key caches and grades."""

    spec: Assignment
    path: Path
    course: Course | None
    spec_hash: str
    reference_path: Path | None

    @property
    def id(self) -> str:
        return self.spec.id


def parse_spec(path: Path, text: str) -> Assignment:
    """Validate spec text; raise ``SpecError`` listing every problem with its location."""
    return parse_toml(Assignment, text, str(path))[0]


def spec_hash(spec: Assignment) -> str:
    """sha256 of the spec's canonical JSON: any change to checks, points or tolerances changes it."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_spec_file(path: Path, course: Course | None = None) -> LoadedAssignment:
    """Load one spec file (and check it against the course rubric when there is one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec: {exc}") from None
    spec = parse_spec(path, text)
    if path.stem != spec.id:
        raise SpecError(f"{path}: id {spec.id!r} does not match the file name {path.stem!r}")
    reference = course.reference_path(spec.reference) if course else None
    if course is not None:
        _check_rubric(course, spec, path)
    return LoadedAssignment(spec, path, course, spec_hash(spec), reference)


def _check_rubric(course: Course, spec: Assignment, path: Path) -> None:
    rubric_file = course.rubrics / "course.toml"
    if not rubric_file.is_file():
        return
    from autograder.final import rubric as rubric_module

    rubric = rubric_module.load_rubric(rubric_file)
    rubric_module.check_assignment_points(rubric, spec.id, spec.points, str(path))


def load_assignment(assignment_id: str, course: Course | None = None) -> LoadedAssignment:
    """Load ``<course>/assignments/<id>.toml``; an unknown id lists the known ones."""
    course = course or find_course()
    path = course.spec_path(assignment_id)
    if not path.is_file():
        known = ", ".join(course.available()) or "none"
        raise SpecError(f"unknown assignment {assignment_id!r} (known in {course.root}: {known})")
    return load_spec_file(path, course)
