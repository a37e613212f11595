"""Switches the runtime guard off from student code (sys.setprofile(None) and
threading.setprofile(None) at import, DisableTorchFunction around the call), then uses a blind
spot of the old scan (getattr passed as a value). Tampering: every task that forbids an API
scores 0."""

import sys
import threading

import torch

sys.setprofile(None)
threading.setprofile(None)


def softmax(z, dim=-1):
    fetch = getattr
    with torch._C.DisableTorchFunction():
        return fetch(z, "soft" + "max")(dim)
