"""Correct solutions written another way: index_put confusion matrices, F.one_hot and
torch.softmax in the dice loss, argsort pruning, torch.rsqrt folding as torch does it,
torch.log_softmax in the distillation loss, and a U-Net whose modules are made in another
order (same state_dict keys)."""

# ruff: noqa: F821

import copy

import torch.nn.functional as F


def confusion_matrix(pred, target, num_classes, ignore_index=None):
    pred, target = pred.flatten(), target.flatten()
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    cm.index_put_((target, pred), torch.ones_like(target), accumulate=True)
    return cm


def mean_iou(pred, target, num_classes, ignore_index=None):
    return torch.nanmean(iou_per_class(pred, target, num_classes, ignore_index).double()).float()


def dice_loss(logits, target, smooth=1.0, ignore_index=None):
    num_classes = logits.shape[1]
    probs = torch.softmax(logits, dim=1)
    valid = torch.ones_like(target, dtype=torch.bool)
    if ignore_index is not None:
        valid = target != ignore_index
    one_hot = F.one_hot(torch.where(valid, target, 0), num_classes).permute(0, 3, 1, 2)
    mask = valid.unsqueeze(1).to(probs.dtype)
    probs, one_hot = probs * mask, one_hot.to(probs.dtype) * mask
    inter = torch.einsum("nchw,nchw->c", probs, one_hot)
    total = probs.sum(dim=(0, 2, 3)) + one_hot.sum(dim=(0, 2, 3))
    return 1.0 - ((2.0 * inter + smooth) / (total + smooth)).mean()


class UNet(nn.Module):
    def __init__(self, in_channels, num_classes, base_channels=16, depth=3):
        super().__init__()
        self.outc = nn.Conv2d(base_channels, num_classes, kernel_size=1)
        self.ups = nn.ModuleList()
        for level in reversed(range(depth)):
            self.ups.append(Up(base_channels * 2 ** (level + 1), base_channels * 2**level))
        self.downs = nn.ModuleList()
        for level in range(depth):
            self.downs.append(Down(base_channels * 2**level, base_channels * 2 ** (level + 1)))
        self.inc = DoubleConv(in_channels, base_channels)

    def forward(self, x):
        skips = []
        x = self.inc(x)
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for up, skip in zip(self.ups, reversed(skips), strict=True):
            x = up(x, skip)
        return self.outc(x)


def prune_l1_unstructured_(weight, amount):
    n = weight.numel()
    k = amount if isinstance(amount, int) else round(amount * n)
    mask = torch.ones(n, dtype=weight.dtype)
    mask[weight.detach().abs().flatten().argsort()[:k]] = 0
    mask = mask.view_as(weight)
    with torch.no_grad():
        weight.mul_(mask)
    return mask


def fuse_conv_bn(conv, bn):
    fused = copy.deepcopy(conv)
    inv_std = torch.rsqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        fused.weight = nn.Parameter(conv.weight * (bn.weight * inv_std).reshape(-1, 1, 1, 1))
        fused.bias = nn.Parameter((bias - bn.running_mean) * inv_std * bn.weight + bn.bias)
    return fused


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    t = temperature
    with torch.no_grad():
        q = torch.softmax(teacher_logits / t, dim=1)
        log_q = torch.log_softmax(teacher_logits / t, dim=1)
    log_p = torch.log_softmax(student_logits / t, dim=1)
    kl = (q * (log_q - log_p)).sum(dim=1).mean()
    log_p1 = torch.log_softmax(student_logits, dim=1)
    ce = -log_p1[torch.arange(target.shape[0]), target].mean()
    return alpha * t**2 * kl + (1 - alpha) * ce
