# ruff: noqa: F821
"""Adam.step changes nothing: the network keeps its initial weights."""

import torch


class Adam:
    @torch.no_grad()
    def step(self):
        return None
