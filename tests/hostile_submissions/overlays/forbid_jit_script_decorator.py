"""log_softmax calls a helper compiled by the @torch.jit.script decorator (a decorator runs at
import, with its definition): log_softmax and cross_entropy, which uses it, pay."""

import torch


@torch.jit.script
def _shifted_log(z: torch.Tensor, dim: int) -> torch.Tensor:
    shifted = z - torch.amax(z, [dim], True).detach()
    return shifted - torch.log(torch.exp(shifted).sum(dim, keepdim=True))


def log_softmax(z, dim=-1):
    return _shifted_log(z, dim)
