# ruff: noqa: F821
"""The exponent uses i / d_model instead of 2i / d_model."""

import torch

CHECK = "attention/positional-encoding"
MESSAGE = "values differ"


def positional_encoding(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    exponent = torch.arange(d_model // 2, dtype=torch.float64) / d_model
    angle = position / (10000.0**exponent)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(torch.float32)
