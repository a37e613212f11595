"""Raw results: what a worker claimed for each probe, as the trusted side received them.

Plain data (validated tensors and capped JSON), shared by the supervisor that fills it, the
reference cache that stores it and the checks that compare it. It imports nothing that runs
or supervises workers, so the pure comparison code does not load the sandbox.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class ProbeRaw:
    """What the worker claimed for one probe. Outputs are plain tensors, nothing more."""

    status: str
    message: str = ""
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # What trusted checks derive from these outputs (a sorted sample, its moments): the
    # reference's ProbeRaw is shared by every submission, so it is derived once.
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Execution:
    """Per-probe claims plus the tasks that could not run to the end (status, message)."""

    probes: dict[str, ProbeRaw] = field(default_factory=dict)
    task_failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    # CPU and wall seconds per task, measured from outside the worker (the run's cgroup or
    # /proc, and the grader's clock): what budgets are charged in and what the report shows
    task_cpu_seconds: dict[str, float] = field(default_factory=dict)
    task_wall_seconds: dict[str, float] = field(default_factory=dict)
    import_error: str | None = None
    # What the worker's guard saw while the file was imported: (name, line of the module-level
    # statement running, 0 if none); the trusted side attributes them (``forbidden.charges``).
    import_violations: list[tuple[str, int]] = field(default_factory=list)
    # The submission never got past its import (crash, timeout): status and message.
    fatal: tuple[str, str] | None = None
    layers: list[str] = field(default_factory=list)
    # Set when a run failed for a reason of the grader's (the worker never reached the
    # submission, or failed itself): the engine retries on a fresh zygote, never charges it.
    grader_failure: str | None = None
    output: str = ""
    seconds: float = 0.0
    # One per run; set once that run's processes are gone (see ``Zygote.run``).
    settled: list[threading.Event] = field(default_factory=list, repr=False, compare=False)

    def wait_settled(self) -> None:
        """Block until nothing any run of this execution started is still alive."""
        for event in self.settled:
            event.wait()
