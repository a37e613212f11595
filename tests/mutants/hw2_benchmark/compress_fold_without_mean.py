"""compress folds each BatchNorm without subtracting its running mean, then prunes half."""

# ruff: noqa: F821


def _fold(layers):
    out = []
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d) and out and isinstance(out[-1], nn.Conv2d):
            conv, bn = out[-1], layer
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, padding=1)
            with torch.no_grad():
                fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
                fused.bias.copy_(bn.bias.detach())
            out[-1] = fused.eval()
        else:
            out.append(layer)
    return out
