"""What the probed layers add up to: the isolation level a report records, its gaps, the
refusal rule for hidden tasks, and the ``autograder doctor`` table.
"""

from __future__ import annotations

from typing import Any

from autograder.sandbox.capabilities import Capabilities


def filesystem_isolated(caps: Capabilities) -> bool:
    """The worker can neither read hidden files nor write outside its scratch."""
    return caps.active("bubblewrap") or caps.active("landlock")


def network_isolated(caps: Capabilities) -> bool:
    """No TCP or UDP anywhere, loopback included."""
    return caps.active("bubblewrap") or caps.active("seccomp")


def processes_bounded(caps: Capabilities) -> bool:
    """A process cap binds: the worker is not uid 0, or a pids cgroup holds it."""
    return not caps.root or caps.active("sandbox-uid") or caps.active("cgroup")


def grader_protected(caps: Capabilities) -> bool:
    """The worker cannot signal the grader (a different uid, or Landlock signal scoping)."""
    return caps.active("sandbox-uid") or (caps.active("landlock") and caps.landlock_abi >= 6)


def gaps(caps: Capabilities) -> list[str]:
    """What a hostile submission could still do here, one short sentence each."""
    found = []
    if not filesystem_isolated(caps):
        found.append(
            "the worker can read any file its user can (hidden tests, reference solutions) and write to site-packages"
        )
    if not network_isolated(caps):
        if caps.active("landlock") and caps.landlock_abi >= 4:
            found.append("UDP and non-TCP sockets are open (Landlock covers TCP only)")
        else:
            found.append("the worker has network access")
    if not processes_bounded(caps):
        found.append("the worker runs as uid 0 with no pids cgroup: its process count is unbounded")
    if not grader_protected(caps):
        found.append("the worker can send signals to the grader (same uid, no Landlock scoping)")
    if not caps.active("cgroup"):
        found.append(
            "memory is bounded by RLIMIT_AS only: shared memory and tmpfs files are not counted"
        )
    if not caps.active("bubblewrap"):
        found.append("scratch size is capped per file (RLIMIT_FSIZE), not in total")
    return found


def level(caps: Capabilities) -> str:
    """``strong`` (nothing on the gap list that endangers secrets, the grader or the machine),
    ``basic`` (files and network isolated, something else missing) or ``none``."""
    if not (filesystem_isolated(caps) and network_isolated(caps)):
        return "none"
    if processes_bounded(caps) and grader_protected(caps):
        return "strong"
    return "basic"


def isolation_summary(caps: Capabilities, insecure: bool = False) -> dict[str, Any]:
    """Plain JSON for ``Report.isolation``: the level, the active layers and the known gaps."""
    return {
        "level": level(caps),
        "layers": caps.active_names,
        "filesystem": filesystem_isolated(caps),
        "network": network_isolated(caps),
        "processes_bounded": processes_bounded(caps),
        "memory": "cgroup" if caps.active("cgroup") else "rlimit",
        "gaps": gaps(caps),
        "insecure": insecure,
    }


def hidden_tasks_allowed(caps: Capabilities, insecure: bool) -> tuple[bool, str]:
    """Whether hidden tasks may run here, and a sentence saying why (or why not)."""
    if filesystem_isolated(caps) and network_isolated(caps):
        return True, f"isolation level {level(caps)}"
    missing = " and ".join(
        what
        for what, ok in (
            ("filesystem", filesystem_isolated(caps)),
            ("network", network_isolated(caps)),
        )
        if not ok
    )
    if insecure:
        return (
            True,
            f"running hidden tasks without {missing} isolation because --insecure was given",
        )
    return False, (
        f"hidden tasks need {missing} isolation, and this machine has none "
        "(no working bubblewrap, Landlock or seccomp); run 'autograder doctor' to see why, "
        "or pass --insecure to grade anyway"
    )
