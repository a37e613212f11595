"""compress folds and fake-quantizes but prunes nothing: every weight stays non-zero."""

# ruff: noqa: F821


def compress(model, calibration_images):
    layers = _fold(list(model))
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                scale, zero_point = choose_qparams(layer.weight)
                layer.weight.copy_(fake_quantize(layer.weight, scale, zero_point, 0, 255))
    return nn.Sequential(*layers).eval()
