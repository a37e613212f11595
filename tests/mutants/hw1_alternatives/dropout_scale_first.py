# ruff: noqa: F821
"""Correct, in another style: dropout multiplies by the scaled mask, x * (keep / (1 - p)).

Known engine problem (see tests/test_hw1_mutations.py): the float32 rounding of x * (1 / 0.7)
differs by an ulp from the reference's x / 0.7, and the KS test on the output / input ratios
(a two-valued distribution) sees those ulps.
"""

import torch


class Dropout:
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand(x.shape) >= self.p).to(x.dtype)
        return x * (keep / (1 - self.p))
