"""Go after the processes around the worker: signal, ptrace-read and inspect the parent."""

import os
import signal

parent = os.getppid()
for what, action in (
    ("environ", lambda: open(f"/proc/{parent}/environ", "rb").read(64)),
    ("mem", lambda: open(f"/proc/{parent}/mem", "rb").read(1)),
    ("kill", lambda: os.kill(parent, signal.SIGKILL)),
    ("kill-grader", lambda: os.kill(int("__GRADER_PID__"), signal.SIGKILL)),
):
    try:
        action()
        print(f"{what}: DONE")
    except OSError as exc:
        print(f"{what}: blocked: {exc.__class__.__name__}")


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
