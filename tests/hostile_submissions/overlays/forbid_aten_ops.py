"""softmax calls the dispatcher's op directly, torch.ops.aten._softmax.default: no torch or
Tensor function name at all. The softmax family includes its aten ops, in the scan and in the
worker's function and dispatch modes; only softmax's checks pay."""

import torch


def softmax(z, dim=-1):
    return torch.ops.aten._softmax.default(z, dim, False)
