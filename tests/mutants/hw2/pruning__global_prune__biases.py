"""global_prune_ ranks the biases with the weights and prunes them too."""

# ruff: noqa: F821
CHECK = "pruning/global_prune"
MESSAGE = "after the call"


def global_prune_(model, amount):
    tensors = [
        t
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
        for t in (m.weight, m.bias)
        if t is not None
    ]
    magnitudes = torch.cat([t.detach().abs().reshape(-1) for t in tensors])
    mask = _keep_mask(magnitudes, _count(amount, magnitudes.numel()))
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.mul_(mask[offset : offset + t.numel()].reshape(t.shape))
            offset += t.numel()
