"""log_softmax removes the worker's profile hook through ctypes (PyEval_SetProfile, which no
profile event sees), switches torch functions off, and calls an alias bound in a module-level
with block (a blind spot of the old scan). Tampering: every task that forbids an API scores 0."""

import ctypes

import torch

with torch.no_grad():
    _log_soft = torch.log_softmax


def log_softmax(z, dim=-1):
    ctypes.pythonapi.PyEval_SetProfile(None, None)
    with torch._C.DisableTorchFunction():
        return _log_soft(z, dim)
