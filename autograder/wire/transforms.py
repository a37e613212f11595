"""Input transforms both sides apply identically: the worker to the training split before it
trains, the trusted side to held-out inputs before it predicts from the trained state."""

from __future__ import annotations

from typing import Any

import torch


def standardise_images(images: torch.Tensor, info: dict[str, Any]) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float32 [N, C, H, W]: scaled to [0, 1], then per channel
    ``(x - mean) / std`` with the dataset's constants (``info["mean"]``, ``info["std"]``)."""
    mean = torch.tensor(info["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(info["std"], dtype=torch.float32).view(1, -1, 1, 1)
    return ((images.float() / 255.0) - mean) / std


def unit_pixels(images: torch.Tensor, info: dict[str, Any]) -> torch.Tensor:
    """uint8 [N, C, H, W] with values 0..``info["levels"]`` -> float32 [N, C*H*W] in [0, 1]."""
    return images.flatten(1).float() / float(info["levels"])


def binarise(pixels: torch.Tensor, threshold: float) -> torch.Tensor:
    """float32 [N, D] in [0, 1] -> float32 0/1 (1 where ``pixels >= threshold``): the targets of
    a Bernoulli likelihood."""
    return (pixels >= threshold).float()
