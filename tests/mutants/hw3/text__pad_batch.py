# ruff: noqa: F821
"""Pads with zeros whatever padding_value says."""

import torch

CHECK = "text/pad-batch"
MESSAGE = "padding_value=-1"


def pad_batch(sequences, padding_value=0):
    lengths = torch.tensor([s.shape[0] for s in sequences], dtype=torch.int64)
    out = torch.zeros(len(sequences), int(lengths.max()), dtype=sequences[0].dtype)
    for i, s in enumerate(sequences):
        out[i, : s.shape[0]] = s
    return out, lengths
