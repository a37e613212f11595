"""Ignore SIGTERM and spin forever inside the graded function, with a setsid helper spinning too."""

import os
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()  # out of the worker's process group: only the sandbox's own kill reaches it
    while True:
        pass


def sigmoid(x):
    while True:
        pass
