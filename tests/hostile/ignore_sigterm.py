"""Ignore SIGTERM and spin forever inside the graded function."""

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)


def sigmoid(x):
    while True:
        pass
