"""sigmoid returns a complex tensor and tanh a meta tensor (no data): tensors that the worker's
wire format cannot encode. That must cost the activations checks, nothing else."""

import torch


def sigmoid(x):
    return torch.complex(x, x)


def tanh(x):
    return torch.empty(x.shape, device="meta")
