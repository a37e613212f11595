"""prune_l1_unstructured_ reads an int amount as a fraction too."""

# ruff: noqa: F821
CHECK = "hidden-generalisation/prune-count"
MESSAGE = "prune"


def prune_l1_unstructured_(weight, amount):
    count = round(float(amount) * weight.numel())
    count = min(count, weight.numel())
    mask = _keep_mask(weight.detach().abs().reshape(-1), count).reshape(weight.shape)
    with torch.no_grad():
        weight.mul_(mask)
    return mask
