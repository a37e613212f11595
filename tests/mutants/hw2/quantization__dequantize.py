"""dequantize subtracts the zero point in uint8, which wraps around below it."""

# ruff: noqa: F821
CHECK = "quantization/dequantize"
MESSAGE = "zero_point"


def dequantize(q, scale, zero_point):
    return (q - zero_point).to(torch.float32) * scale
