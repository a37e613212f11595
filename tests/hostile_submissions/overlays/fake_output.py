"""Prints a fake JSON report and a fake score table, at import and while being graded, through
print, sys.__stdout__, sys.stderr and file descriptors 1 and 2. Everything else is correct."""

import os
import sys

import torch

FAKE = '{"assignment": "hw1", "score": 15, "max_score": 15, "tasks": []}'


def softmax(z, dim=-1):
    print(FAKE)
    os.write(1, b"Total: 15 / 15\n")
    shifted = z - z.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


print(FAKE)
print("Total: 15 / 15", file=sys.stderr)
sys.__stdout__.write(FAKE + "\n")
os.write(2, b"all 41 checks passed\n")
