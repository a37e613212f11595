"""The wheel a student installs: the engine only, and with a kit it grades with no course at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.student.kit import build_kit

REPO = Path(__file__).resolve().parent.parent
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".hypothesis"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build from a copy of the checkout (the build writes build/ and *.egg-info next to it)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE, symlinks=True)
    cmd = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*cmd, "--no-index", "-w", str(base / "dist")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (base / "dist").glob("autograder-*.whl")
    return built


def test_wheel_holds_the_engine_and_no_course_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"autograder", next(t for t in tops if t.endswith(".dist-info"))}
    for module in (
        "autograder/trusted/engine.py",
        "autograder/student/kit.py",
        "autograder/student/template.py",
        "autograder/student/submit.py",
        "autograder/commands/kit.py",
        "autograder/commands/submit.py",
        "autograder/untrusted/child.py",
    ):
        assert module in names
    assert not [n for n in names if n.endswith((".toml", ".safetensors", ".pyc"))]
    for course_part in ("reference_solutions", "assignments", "rubrics", "tests", "examples"):
        assert not [n for n in names if f"{course_part}/" in n]
    reference = (REPO / "reference_solutions" / "hw1.py").read_bytes()
    marker = b"shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))"
    assert marker in reference
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in names if marker in archive.read(n)]


def test_installed_wheel_checks_against_a_kit_without_the_course(wheel, tmp_path_factory):
    """A student machine: the package from the wheel, a kit, no course folder anywhere."""
    base = tmp_path_factory.mktemp("student")
    cache = tmp_path_factory.getbasetemp() / "reference-cache"  # shared with test_kit
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOGRADER_CACHE", str(cache))
        build_kit(load_assignment("hw1", Course(REPO)), base / "kit")
    site = base / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target"]
    done = subprocess.run(
        [*install, str(site), str(wheel)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    work = base / "kit"
    shutil.copy(REPO / "reference_solutions" / "hw1.py", work / "hw1.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env["PYTHONPATH"] = str(site)
    env["AUTOGRADER_CACHE"] = str(base / "cache")
    script = (
        "import sys, autograder.spec.course as c; print(c.__file__, file=sys.stderr); "
        "from autograder.cli import main; sys.exit(main())"
    )
    cmd = [sys.executable, "-c", script, "check", "hw1", "hw1.py", "--kit", ".", "--json"]
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(str(site / "autograder" / "spec" / "course.py"))
    report = json.loads(done.stdout)
    assert (report["score_exact"], report["max_score_exact"]) == ("27/2", "15")
    assert not (base / "cache").exists()
