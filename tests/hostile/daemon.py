"""Double-fork a daemon that keeps the output pipe open and outlives the worker."""

import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print(f"DAEMON {os.getpid()}", flush=True)
        for _ in range(600):
            time.sleep(0.1)
            try:
                with open("__BEACON__", "a") as f:
                    f.write("alive\n")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
os.wait()


def sigmoid(x):
    import torch

    return 1 / (1 + torch.exp(-x))
