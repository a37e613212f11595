"""Shared fixtures: a private reference cache per session and one warm Homework 1 grader.

Starting a Grader costs ~15 s (two zygotes import torch, the reference runs once), so every test
file that grades Homework 1 without the benchmark shares ``hw1_grader``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE_HW1 = REPO / "reference_solutions" / "hw1.py"
# The benchmark data: AUTOGRADER_DATA, else ../shared/data beside the checkout (CI's layout).
DATA_ROOT = Path(os.environ.get("AUTOGRADER_DATA") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Reference results (and decoded data) go to a temporary cache, never ~/.cache.

    Set in os.environ so CLI subprocesses started by tests inherit it and reuse the session's
    cached reference results.
    """
    path = tmp_path_factory.mktemp("autograder-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOGRADER_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def hw1_grader() -> Iterator:
    """One warm Homework 1 grader (benchmark skipped, two worker slots) for the whole session."""
    from autograder.spec.course import Course
    from autograder.spec.load import load_assignment
    from autograder.trusted.engine import Grader

    with Grader(load_assignment("hw1", Course(REPO)), skip_benchmarks=True, workers=2) as grader:
        yield grader


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The benchmark data root; skips the test when the cat-vs-dog data is absent."""
    if not (DATA_ROOT / "catdog").is_dir():
        pytest.skip(f"benchmark data not found in {DATA_ROOT} (set AUTOGRADER_DATA)")
    return DATA_ROOT
