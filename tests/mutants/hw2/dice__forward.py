"""dice_loss returns -mean(dice) instead of 1 - mean(dice): the gradient is right, the value not."""

# ruff: noqa: F821
CHECK = "dice/forward"
MESSAGE = "values differ"


def dice_loss(logits, target, smooth=1.0, ignore_index=None):
    num_classes = logits.shape[1]
    shifted = logits - logits.amax(dim=1, keepdim=True).detach()
    e = torch.exp(shifted)
    p = e / e.sum(dim=1, keepdim=True)
    valid = torch.ones_like(target, dtype=torch.bool)
    if ignore_index is not None:
        valid = target != ignore_index
    safe = torch.where(valid, target, torch.zeros_like(target))
    classes = torch.arange(num_classes).view(1, -1, 1, 1)
    t = (safe.unsqueeze(1) == classes).to(p.dtype)
    m = valid.unsqueeze(1).to(p.dtype)
    p, t = p * m, t * m
    dims = (0, 2, 3)
    dice = (2 * (p * t).sum(dims) + smooth) / (p.sum(dims) + t.sum(dims) + smooth)
    return -dice.mean()
