"""Where a student kit keeps its files (see ``autograder.student.kit``), readable without torch.

``autograder check --kit`` reads the kit's spec before it imports the engine; ``kit`` imports
torch, so the layout lives here.
"""

from __future__ import annotations

from pathlib import Path

from autograder.errors import KitError

KIT_DIR = "kit"
MANIFEST = "manifest.json"
SPEC_FILE = "spec.json"
PLAN_FILE = "plan.safetensors"
EXPECTED_FILE = "expected.safetensors"
FILES = (SPEC_FILE, PLAN_FILE, EXPECTED_FILE)


def kit_folder(path: Path) -> Path:
    """The folder holding ``manifest.json``: ``path/kit`` or ``path`` itself."""
    if not path.is_dir():
        raise KitError(f"{path}: no such kit folder")
    for folder in (path / KIT_DIR, path):
        if (folder / MANIFEST).is_file():
            return folder
    if (path / KIT_DIR).is_dir() or any((path / name).exists() for name in FILES):
        raise KitError(
            f"{path}: the kit's {MANIFEST} is missing; the kit is incomplete, get it again"
        )
    raise KitError(f"{path}: not a student kit (no {KIT_DIR}/{MANIFEST})")
