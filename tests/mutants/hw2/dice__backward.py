"""dice_loss computed on detached logits: the right value, no gradient at all (every gradient
reads 0, so the check fails on the values before it would name the missing graph)."""

# ruff: noqa: F821
CHECK = "dice/backward"
MESSAGE = "gradient of argument 0: 224 of 240 values differ"


def dice_loss(logits, target, smooth=1.0, ignore_index=None):
    logits = logits.detach()
    num_classes = logits.shape[1]
    e = torch.exp(logits - logits.amax(dim=1, keepdim=True))
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
    return 1 - dice.mean()
