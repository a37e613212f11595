"""Crash the interpreter with a segmentation fault."""

import ctypes


def sigmoid(x):
    ctypes.string_at(0)
    return x
