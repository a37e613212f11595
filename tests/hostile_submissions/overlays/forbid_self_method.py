"""softmax wraps the input in a Tensor subclass whose own method calls self.softmax: the scan
no longer skips attributes of self (unless the class defines them itself)."""

import torch


class _Wrapped(torch.Tensor):
    def normalised(self, dim):
        return self.softmax(dim)


def softmax(z, dim=-1):
    return _Wrapped.normalised(z.as_subclass(_Wrapped), dim).as_subclass(torch.Tensor)
