"""A fork bomb whose children start new sessions and sleep; at most 2**8 processes even with no
limit. The original process goes on to be graded, so the sleepers must be killed afterwards."""

import os
import time

made = 0
original = os.getpid()
for _ in range(8):
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"fork refused: {exc}", flush=True)
        break
    if pid == 0:
        os.setsid()
    else:
        made += 1
print(f"process {os.getpid()} made {made}", flush=True)
if os.getpid() != original:
    time.sleep(30)
    os._exit(0)


def sigmoid(x):
    return x
