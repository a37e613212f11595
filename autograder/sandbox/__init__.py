"""Worker isolation: probe the layers this machine offers, box every submission with them.

Trusted side (the grader)::

    caps = probe()                                   # cached; layers that work here
    ok, why = hidden_tasks_allowed(caps, insecure)   # refuse hidden tasks without isolation
    slot = Slot(caps, scratch_mb=limits.scratch_mb)  # one per Zygote(slot=slot)
    prepared = slot.prepare(limits, student_file)    # request["path"], request["confine"]
    report.isolation = isolation_summary(caps, insecure)

Worker side: ``autograder.untrusted.confine.apply`` calls ``child_layers(settings)``.
"""

from autograder.sandbox.capabilities import DISABLE_ENV, Capabilities, Layer, probe
from autograder.sandbox.doctor import doctor, render_doctor
from autograder.sandbox.layers import LayerError, child_layers
from autograder.sandbox.policy import confine_settings
from autograder.sandbox.slot import SCRATCH_ENV, Prepared, Slot
from autograder.sandbox.summary import hidden_tasks_allowed, isolation_summary, processes_bounded


def zygote_wrapper(slot: Slot) -> list[str]:
    """The bubblewrap prefix for ``slot``'s zygote, or ``[]`` where bubblewrap does not work.

    It binds the slot's inbox and scratch, so it belongs to one slot; ``Zygote(slot=slot)``
    calls this itself.
    """
    return slot.wrapper()


def protect_grader() -> None:
    """Make the grader undebuggable by same-uid workers (PR_SET_DUMPABLE 0): no ptrace, no
    reading its memory or environment through /proc."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)


__all__ = [
    "DISABLE_ENV",
    "SCRATCH_ENV",
    "Capabilities",
    "Layer",
    "LayerError",
    "Prepared",
    "Slot",
    "child_layers",
    "confine_settings",
    "doctor",
    "hidden_tasks_allowed",
    "isolation_summary",
    "probe",
    "processes_bounded",
    "protect_grader",
    "render_doctor",
    "zygote_wrapper",
]
