"""sigmoid returns zeros wrapped in a tensor subclass that claims equality with everything
(__eq__, equal, allclose, isclose and __torch_function__ answers). Only the plain data crosses
the boundary: sigmoid-forward fails; its gradients (none reach x) fail too."""

import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    def equal(self, other):
        return True

    def allclose(self, other, *args, **kwargs):
        return True

    def isclose(self, other, *args, **kwargs):
        return torch.ones(self.shape, dtype=torch.bool)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def sigmoid(x):
    return torch.zeros(x.shape, dtype=x.dtype).as_subclass(Liar)
