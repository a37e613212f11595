"""quantize_per_tensor rounds half up (floor(v + 0.5)), not half to even."""

# ruff: noqa: F821
CHECK = "quantization/quantize_per_tensor"
MESSAGE = "exact .5 ties"


def quantize_per_tensor(x, scale, zero_point, qmin=0, qmax=255):
    q = torch.floor(x.to(torch.float32) * _reciprocal(scale) + 0.5) + zero_point
    return torch.clamp(q, qmin, qmax).to(torch.uint8)
