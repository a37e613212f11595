"""An honest submission: graded after each attack to show the grader still works."""

import torch


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))
