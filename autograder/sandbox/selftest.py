"""Try Landlock and seccomp for real in a throwaway process and report what they blocked.

Run by ``probe()`` as ``python -I`` with the path of a file that must become unreadable and
a JSON list of the paths that stay readable. Prints
one JSON object: ``landlock`` (list of enforced parts, or an error), ``landlock_blocks_read``,
``landlock_blocks_tcp``, ``seccomp`` (True or an error) and ``seccomp_blocks_inet``.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from autograder.sandbox import landlock, layers, seccomp


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


def run(secret: str, readable: list[str]) -> dict:
    report: dict = {}
    layers._no_new_privs()
    try:
        report["landlock"] = landlock.restrict(readable, [])
        report["landlock_blocks_read"] = _denied(lambda: open(secret).close())
        report["landlock_blocks_tcp"] = _denied(_connect_closed_port)
    except OSError as exc:
        report["landlock"] = str(exc)
    try:
        seccomp.install()
        report["seccomp"] = True
        report["seccomp_blocks_inet"] = _denied(
            lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        )
    except OSError as exc:
        report["seccomp"] = str(exc)
    return report


def main() -> None:
    print(json.dumps(run(sys.argv[1], json.loads(sys.argv[2]))))
    sys.stdout.flush()
    os._exit(0)
