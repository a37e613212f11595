"""tanh dereferences a null pointer: the worker dies with SIGSEGV while grading activations."""

import ctypes


def tanh(x):
    ctypes.string_at(0)
    return x
