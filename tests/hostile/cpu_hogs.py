"""Starve the neighbours: 60 processes, each in a session of its own, that spin on the CPU while
the probe waits. They start together once all are forked (a pipe's end of file releases them).
Bounded: each spins for at most 10 s, and the run's deadline kills them all earlier."""

import os
import time

release_r, release_w = os.pipe()
hogs = []
for _ in range(60):
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"fork refused: {exc.__class__.__name__}")
        break
    if pid == 0:
        os.close(release_w)
        os.setsid()  # a session each: the scheduler's autogroups would share them out otherwise
        os.read(release_r, 1)  # until every hog is forked
        start = time.monotonic()
        while time.monotonic() - start < 10:
            pass
        os._exit(0)
    hogs.append(pid)
os.close(release_w)
print(f"hogs {len(hogs)}", flush=True)


def sigmoid(x):
    import torch

    for pid in hogs:
        os.waitpid(pid, 0)
    return 1 / (1 + torch.exp(-x))
