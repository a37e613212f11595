"""Homework 2: an example submission with a few realistic mistakes.

What is wrong (so that `autograder check hw2 examples/hw2_student.py` has something to say):

- iou_per_class gives a class that is absent from both maps an IoU of 0 instead of NaN;
- dice_loss masks the one-hot target at ignored pixels but not the probabilities;
- Up pads the upsampled tensor on the right and bottom only;
- prune_l1_unstructured_ truncates the count (int(amount * numel)) instead of rounding half to
  even, and reads an int amount as a fraction too;
- choose_qparams uses the data's own range, which need not include 0;
- fake_quantize passes the gradient everywhere, also where the value was clamped;
- fuse_conv_bn forgets the convolution's own bias;
- distillation_loss forgets the T**2 factor;
- compress only prunes: no folding, no fake quantization.
"""

import torch
import torch.nn.functional as F
from torch import nn

# --- Segmentation metrics --------------------------------------------------------------------


def confusion_matrix(pred, target, num_classes, ignore_index=None):
    pred, target = pred.flatten(), target.flatten()
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    cm.index_put_((target, pred), torch.ones_like(target), accumulate=True)
    return cm


def iou_per_class(pred, target, num_classes, ignore_index=None):
    cm = confusion_matrix(pred, target, num_classes, ignore_index).float()
    tp = torch.diag(cm)
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp
    return tp / torch.clamp(union, min=1)  # avoid dividing by zero


def mean_iou(pred, target, num_classes, ignore_index=None):
    cm = confusion_matrix(pred, target, num_classes, ignore_index).double()
    tp = torch.diag(cm)
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp
    return torch.nanmean(tp / union).float()


def pixel_accuracy(pred, target, ignore_index=None):
    if ignore_index is not None:
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    return (pred == target).float().mean()


# --- Dice loss -------------------------------------------------------------------------------


def dice_loss(logits, target, smooth=1.0, ignore_index=None):
    num_classes = logits.shape[1]
    probs = torch.softmax(logits, dim=1)
    if ignore_index is not None:
        valid = (target != ignore_index).unsqueeze(1)
        one_hot = F.one_hot(torch.where(valid[:, 0], target, 0), num_classes)
        one_hot = one_hot.permute(0, 3, 1, 2).to(probs.dtype) * valid
    else:
        one_hot = F.one_hot(target, num_classes).permute(0, 3, 1, 2).to(probs.dtype)
    inter = (probs * one_hot).sum(dim=(0, 2, 3))
    total = probs.sum(dim=(0, 2, 3)) + one_hot.sum(dim=(0, 2, 3))
    return 1 - ((2 * inter + smooth) / (total + smooth)).mean()


# --- U-Net -----------------------------------------------------------------------------------


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if mid_channels is None:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(),
            nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x, skip):
        x = self.up(x)
        dy = skip.size(2) - x.size(2)
        dx = skip.size(3) - x.size(3)
        x = F.pad(x, [0, dx, 0, dy])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(self, in_channels, num_classes, base_channels=16, depth=3):
        super().__init__()
        self.inc = DoubleConv(in_channels, base_channels)
        self.downs = nn.ModuleList()
        self.ups = nn.ModuleList()
        channels = base_channels
        for _ in range(depth):
            self.downs.append(Down(channels, channels * 2))
            channels *= 2
        for _ in range(depth):
            self.ups.append(Up(channels, channels // 2))
            channels //= 2
        self.outc = nn.Conv2d(base_channels, num_classes, 1)

    def forward(self, x):
        features = [self.inc(x)]
        for down in self.downs:
            features.append(down(features[-1]))
        x = features.pop()
        for up in self.ups:
            x = up(x, features.pop())
        return self.outc(x)


# --- Pruning ---------------------------------------------------------------------------------


def prune_l1_unstructured_(weight, amount):
    k = int(amount * weight.numel())
    mask = torch.ones_like(weight)
    if k > 0:
        threshold_idx = weight.abs().flatten().argsort()[:k]
        mask.view(-1)[threshold_idx] = 0
    with torch.no_grad():
        weight *= mask
    return mask


def global_prune_(model, amount):
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    scores = torch.cat([w.detach().abs().flatten() for w in weights])
    k = amount if isinstance(amount, int) else round(amount * scores.numel())
    keep = torch.ones_like(scores)
    keep[scores.argsort()[:k]] = 0
    start = 0
    with torch.no_grad():
        for w in weights:
            w *= keep[start : start + w.numel()].view_as(w)
            start += w.numel()


# --- Quantization ----------------------------------------------------------------------------


def choose_qparams(x, qmin=0, qmax=255):
    lo, hi = x.min().float(), x.max().float()
    scale = torch.clamp((hi - lo) / (qmax - qmin), min=torch.finfo(torch.float32).eps)
    zero_point = torch.clamp(qmin - torch.round(lo / scale), qmin, qmax)
    return scale.item(), int(zero_point.item())


def quantize_per_tensor(x, scale, zero_point, qmin=0, qmax=255):
    inv = 1.0 / torch.tensor(scale, dtype=torch.float32)
    q = torch.round(x.float() * inv) + zero_point
    return q.clamp(qmin, qmax).to(torch.uint8)


def dequantize(q, scale, zero_point):
    return (q.float() - zero_point) * scale


def fake_quantize(x, scale, zero_point, qmin, qmax):
    inv = 1.0 / torch.tensor(scale, dtype=torch.float32)
    q = torch.clamp(torch.round(x * inv) + zero_point, qmin, qmax)
    y = (q - zero_point) * scale
    return x + (y - x).detach()  # straight-through estimator


class FakeQuantize(nn.Module):
    def __init__(self, scale, zero_point, qmin=0, qmax=255):
        super().__init__()
        self.scale = scale
        self.zero_point = zero_point
        self.qmin = qmin
        self.qmax = qmax

    def forward(self, x):
        return fake_quantize(x, self.scale, self.zero_point, self.qmin, self.qmax)


# --- Folding and distillation ----------------------------------------------------------------


def fuse_conv_bn(conv, bn):
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        bias=True,
    )
    std = torch.sqrt(bn.running_var + bn.eps)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * (bn.weight / std).view(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias - bn.weight * bn.running_mean / std)
    return fused


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    log_p = torch.log_softmax(student_logits / temperature, dim=1)
    q = torch.softmax(teacher_logits.detach() / temperature, dim=1)
    kl = (q * (torch.log(q) - log_p)).sum(dim=1).mean()
    ce = -torch.log_softmax(student_logits, dim=1).gather(1, target.view(-1, 1)).mean()
    return alpha * kl + (1 - alpha) * ce


# --- Compression -----------------------------------------------------------------------------


def compress(model, calibration_images):
    global_prune_(model, 0.5)
    return model
