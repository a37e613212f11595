"""quantize_per_tensor divides by the scale, where torch multiplies by its float32 reciprocal."""

# ruff: noqa: F821
CHECK = "quantization/quantize_per_tensor"
MESSAGE = "divide by the scale"


def quantize_per_tensor(x, scale, zero_point, qmin=0, qmax=255):
    q = torch.round(x.to(torch.float32) / scale) + zero_point
    return torch.clamp(q, qmin, qmax).to(torch.uint8)
