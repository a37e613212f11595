"""Reaches the worker's guard module through sys.modules with a computed key (no import of
autograder in the source), replaces Guard's methods, and calls an alias bound in a module-level
try block (a blind spot of the old scan). Tampering: every task that forbids an API scores 0."""

import sys

import torch

try:
    _soft = torch.softmax
except AttributeError:
    _soft = None


def softmax(z, dim=-1):
    return _soft(z, dim)


_guard = sys.modules["autograder.untrusted." + "guard"]
_guard.Guard.__enter__ = lambda self: self
_guard.Guard.__exit__ = lambda self, *exc: None
