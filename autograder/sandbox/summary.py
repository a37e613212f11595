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


# What a worker does to the grader through each way in (``Capabilities.grader_refused``).
_REACH_HARM = {
    "prlimit": "prlimit (clamp its RLIMIT_CPU, NOFILE or AS: kill it, or make every later "
    "submission fail)",
    "pidfd": "pidfd_open (find it and the other lanes without /proc)",
    "signal": "signals (kill it or any process of its uid)",
}


def grader_reachable(caps: Capabilities) -> list[str]:
    """The ways a worker can still act on the grader process, as tried from a process confined
    like a worker (``doctor`` shows the outcome of each). None when the worker runs under a
    sandbox uid: it then shares nothing with the grader."""
    if caps.active("sandbox-uid"):
        return []
    if not caps.grader_refused:
        return list(_REACH_HARM)  # nothing confined the trial (or it failed): assume the worst
    return [way for way, refused in caps.grader_refused.items() if not refused]


def grader_protected(caps: Capabilities) -> bool:
    """The worker can neither signal the grader nor change its limits nor open a pidfd on it
    (a different uid, or seccomp and Landlock signal scoping, as tried by the probe)."""
    return not grader_reachable(caps)


def scratch_capped(caps: Capabilities) -> bool:
    """Scratch is capped in total, not only per file."""
    return caps.active("bubblewrap") or caps.active("scratch-tmpfs")


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
    reachable = grader_reachable(caps)
    if reachable:
        ways = "; ".join(_REACH_HARM.get(way, way) for way in reachable)
        found.append(f"the worker shares the grader's uid and can reach it through {ways}")
    if not caps.active("sandbox-uid") and not caps.active("seccomp"):
        found.append(
            "the worker shares the grader's uid and can chmod, chown or touch any file that uid "
            "owns (Landlock does not cover file metadata)"
        )
    if not caps.active("bubblewrap") and not caps.active("seccomp"):
        found.append(
            "the worker can connect to the host's unix sockets (Landlock does not cover them)"
        )
    if not caps.active("cgroup"):
        found.append(
            "memory is bounded by RLIMIT_AS only: shared memory and tmpfs files are not counted"
        )
        found.append(
            "no CPU quota: the worker's processes compete with the other lanes for the CPUs, and "
            "its CPU time counts only the worker and the children it waited for"
        )
    elif caps.cgroup is not None and caps.cgroup.cpu is None:
        found.append(
            "no cpu cgroup controller: the worker's processes compete with the other lanes for "
            "the CPUs (its CPU time is still counted by the cgroup)"
        )
    if not scratch_capped(caps):
        found.append(
            "scratch size is capped per file (RLIMIT_FSIZE), not in total: without root or "
            "bubblewrap a worker can fill the disk with many files"
        )
    return found


def level(caps: Capabilities) -> str:
    """``strong`` (nothing on the gap list that endangers secrets, the grader or the machine:
    files and network isolated, processes bounded, the grader out of the worker's reach),
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
        "grader_reachable": grader_reachable(caps),
        "scratch_capped": scratch_capped(caps),
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
