"""Raises while being imported."""

import torch


def sigmoid(x):
    return torch.zeros_like(x)


raise RuntimeError("dataset not found at /home/student/data")
