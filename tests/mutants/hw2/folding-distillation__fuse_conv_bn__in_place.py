"""fuse_conv_bn folds the BatchNorm into the given convolution itself and returns it."""

# ruff: noqa: F821
CHECK = "folding-distillation/fuse_conv_bn"
MESSAGE = "after the call"


def fuse_conv_bn(conv, bn):
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias.detach())
    return conv
