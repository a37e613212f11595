"""fake_quantize passes the gradient everywhere, also where the value was clamped."""

# ruff: noqa: F821
CHECK = "quantization/fake_quantize-backward"
MESSAGE = "gradient of argument 0"


def fake_quantize(x, scale, zero_point, qmin, qmax):
    q = torch.round(x.detach() * _reciprocal(scale)) + zero_point
    values = (torch.clamp(q, qmin, qmax) - zero_point) * torch.tensor(scale, dtype=x.dtype)
    return x + (values - x).detach()
