"""Where the course's staff files live: specs, reference solutions, rubric.

The installable package holds only the engine. Specs, reference solutions and the rubric live in
a course folder (this repository, or a staff checkout) found from, in order: an explicit
``--course`` path, ``AUTOGRADER_COURSE``, the current directory or one of its parents, and the
folder above the package when it is installed from a checkout (editable install).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError


@dataclass(frozen=True)
class Course:
    """A course folder: ``assignments/``, ``reference_solutions/``, ``rubrics/``."""

    root: Path

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def reference_solutions(self) -> Path:
        return self.root / "reference_solutions"

    @property
    def rubrics(self) -> Path:
        return self.root / "rubrics"

    def spec_path(self, assignment_id: str) -> Path:
        return self.assignments / f"{assignment_id}.toml"

    def reference_path(self, module: str) -> Path:
        return self.reference_solutions / f"{module}.py"

    def available(self) -> list[str]:
        """Assignment ids with a spec file, sorted."""
        if not self.assignments.is_dir():
            return []
        return sorted(p.stem for p in self.assignments.glob("*.toml"))


def _is_course(path: Path) -> bool:
    return (path / "assignments").is_dir()


def find_course(option: str | os.PathLike | None = None) -> Course:
    """Locate the course folder; raise with every place looked at when there is none."""
    looked: list[str] = []
    if option is not None:
        path = Path(option).expanduser().resolve()
        if _is_course(path):
            return Course(path)
        raise AutograderError(f"--course {option}: no assignments/ folder in {path}")
    env = os.environ.get("AUTOGRADER_COURSE")
    if env:
        path = Path(env).expanduser().resolve()
        if _is_course(path):
            return Course(path)
        raise AutograderError(f"AUTOGRADER_COURSE={env}: no assignments/ folder in {path}")
    cwd = Path.cwd().resolve()
    for candidate in [cwd, *cwd.parents]:
        if _is_course(candidate):
            return Course(candidate)
    looked.append(f"{cwd} and its parents")
    checkout = Path(__file__).resolve().parents[2]
    if _is_course(checkout):
        return Course(checkout)
    looked.append(str(checkout))
    raise AutograderError(
        "no course folder found (looked in " + "; ".join(looked) + "): pass --course DIR or set "
        "AUTOGRADER_COURSE to the folder holding assignments/ and reference_solutions/, or use "
        "--kit DIR with a student kit"
    )
