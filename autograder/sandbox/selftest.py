"""Try the in-process layers for real in a throwaway process and report what they blocked.

Run by ``probe()`` as ``python -I`` with the path of a file that must become unreadable, a JSON
list of the paths that stay readable and a JSON list of the layers to try (``landlock``,
``seccomp``, ``scratch-tmpfs``). It confines itself the way a worker of the grader that started
it is confined (a uid-0 worker also loses its capabilities), then tries to reach that grader,
its parent. Prints one JSON object: ``landlock`` (list of enforced parts, or an error),
``landlock_blocks_read``, ``landlock_blocks_tcp``, ``seccomp`` (True or an error),
``seccomp_blocks_inet``, ``scratch_tmpfs`` ('' or why not), and ``reach``: for each way into
the grader (``prlimit``, ``pidfd``, ``signal``), whether it was refused.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys

from autograder.sandbox import landlock, layers, scratch, seccomp, uid


def _denied(action) -> bool:
    try:
        action()
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def _connect_closed_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect(("127.0.0.1", 9))


def _pidfd(pid: int) -> None:
    os.close(os.pidfd_open(pid))


# How a worker sharing the grader's uid would get at it; each only reads or probes (signal 0):
# the grader itself must not be harmed by its own doctor.
REACH = {
    "prlimit": lambda pid: resource.prlimit(pid, resource.RLIMIT_NOFILE),
    "pidfd": _pidfd,
    "signal": lambda pid: os.kill(pid, 0),
}


def reach(pid: int) -> dict[str, bool]:
    """For each way in ``REACH``, whether it was refused for ``pid``."""
    return {name: _denied(lambda act=action: act(pid)) for name, action in REACH.items()}


def run(secret: str, readable: list[str], wanted: list[str]) -> dict:
    report: dict = {}
    if "scratch-tmpfs" in wanted:
        report["scratch_tmpfs"] = scratch.trial()  # first: it needs capabilities and one thread
    if os.geteuid() == 0:
        uid.drop_capabilities()  # as a worker without a sandbox uid does
    layers._no_new_privs()
    if "landlock" in wanted:
        try:
            report["landlock"] = landlock.restrict(readable, [])
            report["landlock_blocks_read"] = _denied(lambda: open(secret).close())
            report["landlock_blocks_tcp"] = _denied(_connect_closed_port)
        except OSError as exc:
            report["landlock"] = str(exc)
    if "seccomp" in wanted:
        try:
            seccomp.install()
            report["seccomp"] = True
            report["seccomp_blocks_inet"] = _denied(
                lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            )
        except OSError as exc:
            report["seccomp"] = str(exc)
    report["reach"] = reach(os.getppid())
    return report


def main() -> None:
    print(json.dumps(run(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[4]))))
    sys.stdout.flush()
    os._exit(0)
