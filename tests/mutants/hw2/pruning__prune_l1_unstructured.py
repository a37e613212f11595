"""prune_l1_unstructured_ rounds the count half up (int(x + 0.5)), not half to even."""

# ruff: noqa: F821
CHECK = "pruning/prune_l1_unstructured"
MESSAGE = "amount 0.25 of 10 entries"


def prune_l1_unstructured_(weight, amount):
    if isinstance(amount, int):
        count = amount
    else:
        count = int(amount * weight.numel() + 0.5)
    mask = _keep_mask(weight.detach().abs().reshape(-1), count).reshape(weight.shape)
    with torch.no_grad():
        weight.mul_(mask)
    return mask
