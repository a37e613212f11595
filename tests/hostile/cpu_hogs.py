"""Starve the neighbours: 60 processes that spin on the CPU while the probe waits. Bounded:
each spins from 1.5 s to at most 12 s after the first fork, and the run's deadline kills them
all earlier."""

import os
import time

start = time.monotonic()
hogs = []
for _ in range(60):
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"fork refused: {exc.__class__.__name__}")
        break
    if pid == 0:
        os.setsid()  # a session each: the scheduler's autogroups would share them out otherwise
        time.sleep(max(0.0, start + 1.5 - time.monotonic()))  # all forked, then all spin
        while time.monotonic() - start < 12:
            pass
        os._exit(0)
    hogs.append(pid)
print(f"hogs {len(hogs)}", flush=True)


def sigmoid(x):
    import torch

    for pid in hogs:
        os.waitpid(pid, 0)
    return 1 / (1 + torch.exp(-x))
