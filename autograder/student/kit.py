"""Student kits: an assignment's public checks, with the reference's answers as data and no code.

Layout written by ``autograder kit hw1 --out DIR``::

    DIR/README.md                  the assignment, its tasks and points, how to check and submit
    DIR/hw1.py                     the template (see ``template.py``)
    DIR/kit/manifest.json          format, grader version, spec hashes, sha256 of each file below
    DIR/kit/spec.json              the spec without hidden tasks: same id, points recomputed
    DIR/kit/plan.safetensors       the public probes: input tensors, headers as JSON metadata
    DIR/kit/expected.safetensors   the reference's raw results for them (reference cache format)

Hidden tasks leave only their count and points (manifest, README). Benchmark tasks stay in the
spec but are skipped as "runs on the course server": their score needs the test labels, which a
kit must not hold, and a score on other data would not be the grade. ``check --kit`` verifies
every hash, then grades with the same engine and evaluators as the staff side, with no course.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, ValidationError

from autograder.errors import KitError, OutputError
from autograder.hashing import sha256_file
from autograder.points import fraction_str
from autograder.spec.load import LoadedAssignment, spec_hash
from autograder.spec.models import Assignment
from autograder.spec.public import SERVER_ONLY, public_assignment, server_only
from autograder.student.kit_layout import (
    EXPECTED_FILE,
    FILES,
    KIT_DIR,
    MANIFEST,
    PLAN_FILE,
    SPEC_FILE,
    kit_folder,
)
from autograder.student.plan_file import load_plan, save_plan
from autograder.student.template import points_text, render_readme, render_template
from autograder.trusted import reference
from autograder.trusted.engine import Grader
from autograder.trusted.probe import Plan
from autograder.trusted.raw import Execution
from autograder.version import __version__

KIT_FORMAT = 1
_MAX_MANIFEST_BYTES = 1_000_000


class KitManifest(BaseModel):
    """``kit/manifest.json``: what the kit is for and the sha256 of every file it holds."""

    model_config = ConfigDict(extra="forbid")

    kit_format: int
    assignment: str
    title: str
    student_file: str
    grader_version: str
    torch_version: str
    spec_hash: str
    kit_spec_hash: str
    created_at: str
    points: str
    public_points: str
    server_only: dict[str, str]
    hidden_tasks: int
    hidden_points: str
    files: dict[str, str]


@dataclass(frozen=True)
class Kit:
    """A verified kit: the public spec, its plan and the reference's results for that plan."""

    root: Path
    manifest: KitManifest
    loaded: LoadedAssignment
    plan: Plan
    expected: Execution

    @property
    def skip(self) -> dict[str, str]:
        return {task_id: SERVER_ONLY for task_id in self.manifest.server_only}


# -- building ----------------------------------------------------------------------------------


def _complete(plan: Plan, expected: Execution | None, loaded: LoadedAssignment) -> Execution:
    """The reference's results for exactly the plan's probes; ``KitError`` if any is not ok."""
    assert expected is not None
    problems = [f"{task}: {message}" for task, (_, message) in expected.task_failures.items()]
    for probe in plan.probes():
        raw = expected.probes.get(probe.id)
        if raw is None or raw.status != "ok":
            problems.append(
                f"{probe.id}: " + (f"{raw.status}: {raw.message}" if raw else "no result")
            )
    if problems:
        raise KitError(
            f"the reference solution {loaded.reference_path} fails its own public checks, so no kit "
            "was written: " + "; ".join(problems[:5])
        )
    return Execution(probes={p.id: expected.probes[p.id] for p in plan.probes()})


def _out_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out}: already exists and is not an empty folder; choose another --out")


def build_kit(loaded: LoadedAssignment, out: Path, *, workers: int = 1) -> Kit:
    """Write a student kit for ``loaded`` (a course assignment) to the new folder ``out``.

    Runs the reference solution on the public probes (or reads them from the reference cache),
    writes everything into a temporary sibling folder and renames it into place, so ``out`` is
    either absent or complete. Returns the kit as :func:`load_kit` reads it back.
    """
    out = Path(out)
    _out_folder(out)
    public = public_assignment(loaded)
    skip = server_only(public.spec)
    with Grader(public, skip=skip, workers=workers) as grader:
        plan = grader.plan
        expected = _complete(plan, grader.reference_results, loaded)
    hidden = [t for t in loaded.spec.tasks if t.visibility == "hidden"]
    hidden_points = sum((t.points for t in hidden), Fraction(0))
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(6)}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        folder = tmp / KIT_DIR
        folder.mkdir(parents=True)
        spec_json = json.dumps(public.spec.model_dump(mode="json"), indent=2, sort_keys=True)
        (folder / SPEC_FILE).write_text(spec_json + "\n", encoding="utf-8")
        save_plan(folder / PLAN_FILE, plan)
        reference.save(folder / EXPECTED_FILE, expected)
        manifest = KitManifest(
            kit_format=KIT_FORMAT,
            assignment=loaded.spec.id,
            title=loaded.spec.title,
            student_file=loaded.spec.student_file,
            grader_version=__version__,
            torch_version=torch.__version__,
            spec_hash=loaded.spec_hash,
            kit_spec_hash=public.spec_hash,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            points=fraction_str(loaded.spec.points),
            public_points=fraction_str(public.spec.points),
            server_only={t.id: fraction_str(t.points) for t in public.spec.tasks if t.id in skip},
            hidden_tasks=len(hidden),
            hidden_points=fraction_str(hidden_points),
            files={name: sha256_file(folder / name) for name in FILES},
        )
        (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        readme = render_readme(
            loaded.spec,
            public.spec,
            server_only=set(skip),
            hidden_count=len(hidden),
            hidden_points=hidden_points,
            version=__version__,
        )
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        (tmp / loaded.spec.student_file).write_text(render_template(loaded.spec), encoding="utf-8")
        for path in [*tmp.iterdir(), *folder.iterdir()]:
            if path.is_file():
                path.chmod(0o644)  # safetensors and mkstemp write 0600; a kit is meant to be shared
        _out_folder(out)
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the kit: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return load_kit(out)


# -- loading -----------------------------------------------------------------------------------


def _read_manifest(folder: Path) -> KitManifest:
    path = folder / MANIFEST
    if path.stat().st_size > _MAX_MANIFEST_BYTES:
        raise KitError(f"{path}: over {_MAX_MANIFEST_BYTES} bytes; not a kit manifest")
    try:
        return KitManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KitError(
            f"{path}: not readable JSON ({exc}); the kit is damaged, get it again"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise KitError(
            f"{path}: {where}: {first['msg']}; the kit is damaged, get it again"
        ) from None


def _verify_files(folder: Path, manifest: KitManifest) -> None:
    if sorted(manifest.files) != sorted(FILES):
        raise KitError(
            f"{folder / MANIFEST}: lists {sorted(manifest.files)}, expected {sorted(FILES)}"
        )
    for name in FILES:
        path = folder / name
        if not path.is_file():
            raise KitError(
                f"{path}: missing (listed in {MANIFEST}); the kit is incomplete, get it again"
            )
        if sha256_file(path) != manifest.files[name]:
            raise KitError(
                f"{path}: does not match its sha256 in {MANIFEST}; the kit was modified or damaged, "
                "get it again"
            )


def _read_spec(path: Path, manifest: KitManifest) -> Assignment:
    try:
        spec = Assignment.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise KitError(f"{path}: not a valid spec ({exc})") from None
    if spec.id != manifest.assignment or spec_hash(spec) != manifest.kit_spec_hash:
        raise KitError(f"{path}: does not match the kit's manifest")
    return spec


def load_kit(path: Path, assignment_id: str | None = None) -> Kit:
    """Read and verify a kit (the folder ``kit`` wrote, or its ``kit/`` folder).

    Raises:
        KitError: missing or modified files, another assignment, another grader version.
    """
    folder = kit_folder(Path(path))
    manifest = _read_manifest(folder)
    if assignment_id is not None and manifest.assignment != assignment_id:
        raise KitError(f"{folder}: this kit is for {manifest.assignment!r}, not {assignment_id!r}")
    if manifest.kit_format != KIT_FORMAT:
        raise KitError(
            f"{folder}: kit format {manifest.kit_format}, this grader reads format {KIT_FORMAT}"
        )
    _verify_files(folder, manifest)
    if manifest.grader_version != __version__:
        raise KitError(
            f"{folder}: built for autograder {manifest.grader_version}, but {__version__} is installed: "
            f"install autograder=={manifest.grader_version} or get a kit for {__version__}"
        )
    spec = _read_spec(folder / SPEC_FILE, manifest)
    plan = load_plan(folder / PLAN_FILE, spec)
    expected = reference.load(folder / EXPECTED_FILE)
    if expected is None:
        raise KitError(f"{folder / EXPECTED_FILE}: cannot read the expected results")
    missing = [p.id for p in plan.probes() if p.id not in expected.probes]
    missing += [
        t.id for t in spec.tasks if t.id not in plan.tasks and t.id not in manifest.server_only
    ]
    if missing:
        raise KitError(f"{folder}: the kit has no expected results for {', '.join(missing[:5])}")
    loaded = LoadedAssignment(spec, folder / SPEC_FILE, None, manifest.kit_spec_hash, None)
    return Kit(folder, manifest, loaded, plan, expected)


def kit_grader(kit: Kit, **options: Any) -> Grader:
    """A Grader for the kit's public tasks: its plan and expected results, no course, no reference."""
    return Grader(
        kit.loaded, plan=kit.plan, reference_results=kit.expected, skip=kit.skip, **options
    )


def kit_note(kit: Kit) -> str | None:
    """What the kit cannot check locally, for a line under the report; None if it checks all."""
    m = kit.manifest
    parts = []
    if m.server_only:
        points = sum((Fraction(p) for p in m.server_only.values()), Fraction(0))
        parts.append(
            f"{', '.join(m.server_only)} ({points_text(points)} points) runs on the course server"
        )
    if m.hidden_tasks:
        tasks = "task" if m.hidden_tasks == 1 else "tasks"
        parts.append(
            f"{m.hidden_tasks} hidden {tasks} ({points_text(Fraction(m.hidden_points))} points) graded there too"
        )
    if not parts:
        return None
    local = Fraction(m.public_points) - sum(
        (Fraction(p) for p in m.server_only.values()), Fraction(0)
    )
    return (
        f"This kit checks {points_text(local)} of {points_text(Fraction(m.points))} points: "
        + "; ".join(parts)
        + "."
    )
