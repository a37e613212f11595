"""At import, makes torch's comparisons lie (allclose, equal, Tensor.__eq__, testing.assert_close)
and returns zeros from sigmoid. The comparisons that count run on the trusted side: sigmoid's two
checks fail, everything else passes."""

import torch


def _always(*args, **kwargs):
    return True


def sigmoid(x):
    return torch.zeros_like(x)


torch.allclose = _always
torch.equal = _always
torch.Tensor.__eq__ = _always
torch.testing.assert_close = lambda *args, **kwargs: None
