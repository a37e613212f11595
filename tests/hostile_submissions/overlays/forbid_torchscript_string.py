"""softmax is TorchScript compiled from a string (torch.jit.CompilationUnit), out of elementary
ops only. A task that forbids anything forbids compiling: compiled code reaches ops by routes
the guard does not name. Only softmax (which uses the compiled unit) pays."""

import torch

_UNIT = torch.jit.CompilationUnit(
    "def softmax(z: Tensor, dim: int):\n"
    "    e = torch.exp(z - torch.amax(z, [dim], True).detach())\n"
    "    return e / e.sum(dim, keepdim=True)\n"
)


def softmax(z, dim=-1):
    return _UNIT.softmax(z, dim)
