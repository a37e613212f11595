"""The grader's fixed encoder for representation learning (Homework 5), one definition for both
sides: the worker trains it with the student's loss, the trusted side loads the trained state
into its own instance and extracts features. Torch layers only; no student code."""

from __future__ import annotations

import torch
from torch import nn


class ConvEncoder(nn.Module):
    """Images [N, C, S, S] (standardised) -> features ``h`` [N, features] -> projection ``z``.

    Encoder: conv 3x3 stride 2 (C -> c1), relu, conv 3x3 stride 2 (c1 -> c2), relu, flatten,
    linear (-> features), relu. Projection head (SimCLR's g): linear, relu, linear
    (-> projection). The contrastive loss sees ``z``; a linear probe reads ``h``.
    """

    # the tensors that make up the encoder (what the trusted side needs), in this order
    ENCODER_STATE = (
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc.weight",
        "fc.bias",
    )

    def __init__(
        self, channels: int, side: int, widths: tuple[int, int], features: int, projection: int
    ) -> None:
        super().__init__()
        c1, c2 = widths
        self.conv1 = nn.Conv2d(channels, c1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        out = (side + 1) // 2
        out = (out + 1) // 2
        self.fc = nn.Linear(c2 * out * out, features)
        self.proj1 = nn.Linear(features, features)
        self.proj2 = nn.Linear(features, projection)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return torch.relu(self.fc(h.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj2(torch.relu(self.proj1(self.features(x))))

    def load_encoder(self, state: dict[str, torch.Tensor]) -> ConvEncoder:
        """Copy the encoder's tensors (``ENCODER_STATE``, plain tensors of the same shapes) in;
        the projection head keeps its values. Returns self, in eval mode."""
        own = self.state_dict()
        with torch.no_grad():
            for name in self.ENCODER_STATE:
                own[name].copy_(state[name])
        return self.eval()
