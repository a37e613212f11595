"""fuse_conv_bn drops the convolution's own bias."""

# ruff: noqa: F821
CHECK = "folding-distillation/fuse_conv_bn"
MESSAGE = "with a bias"


def fuse_conv_bn(conv, bn):
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding
    )
    with torch.no_grad():
        fused.weight.copy_(conv.weight.detach() * scale.reshape(-1, 1, 1, 1))
        fused.bias.copy_(-bn.running_mean * scale + bn.bias.detach())
    return fused.eval()
