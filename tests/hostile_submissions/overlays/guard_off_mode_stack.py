"""softmax takes the guard's TorchFunctionMode off torch's mode stack around its call (and puts
it back), and calls the Tensor method through self in a Tensor subclass (a blind spot of the old
scan). Tampering: every task that forbids an API scores 0."""

import torch


class _Wrapped(torch.Tensor):
    def normalised(self, dim):
        return self.softmax(dim)


def softmax(z, dim=-1):
    mode = torch._C._pop_torch_function_stack()
    try:
        wrapped = torch.Tensor.as_subclass(z, _Wrapped)
        return _Wrapped.normalised(wrapped, dim).as_subclass(torch.Tensor)
    finally:
        torch._C._push_on_torch_function_stack(mode)
