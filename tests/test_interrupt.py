"""Stopping a grader (Ctrl-C) ends the runs in progress at once instead of waiting out their budgets."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import torch
from worker_request import sigmoid_request

from autograder.trusted.supervisor import Zygote

HANGS = "def sigmoid(x):\n    while True:\n        pass\n"


def test_a_stop_event_ends_a_hanging_run_within_seconds(tmp_path: Path) -> None:
    source = tmp_path / "hw1.py"
    source.write_text(HANGS)
    stop = threading.Event()
    with Zygote(1, stop=stop) as zygote:
        timer = threading.Timer(1.0, stop.set)
        timer.start()
        started = time.monotonic()
        result = zygote.run(
            sigmoid_request(source),
            {"x": torch.zeros(2)},
            task_seconds={"a": 300},
            total_seconds=600,
        )
        elapsed = time.monotonic() - started
        timer.cancel()
        assert result.ending == "interrupted"
        assert elapsed < 10, f"the run took {elapsed:.1f} s to notice the stop"
        # the slot is usable again once the stop is cleared
        stop.clear()
        source.write_text("def sigmoid(x):\n    return x\n")
        again = zygote.run(
            sigmoid_request(source), {"x": torch.zeros(2)}, task_seconds={"a": 60}, total_seconds=60
        )
        assert again.ending == "done"
        assert any(h.get("status") == "ok" for h, _ in again.frames if h.get("type") == "probe")
