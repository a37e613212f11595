# ruff: noqa: F821
"""A module-level __getattr__ hands out torch.log_softmax, and log_softmax is deleted so that
the worker finds it there. __getattr__ answers for any name the module lacks: what it uses is
charged to every check of every task that forbids it (all of losses)."""

import torch


def __getattr__(name):
    return torch.log_softmax


del log_softmax
