"""fake_quantize forgets to clamp the values to [qmin, qmax] (its gradient mask is right)."""

# ruff: noqa: F821
CHECK = "quantization/fake_quantize-forward"
MESSAGE = "outside the range"


def fake_quantize(x, scale, zero_point, qmin, qmax):
    q = torch.round(x.detach() * _reciprocal(scale)) + zero_point
    inside = ((q >= qmin) & (q <= qmax)).to(x.dtype)
    values = (q - zero_point) * torch.tensor(scale, dtype=x.dtype)
    passed = x * inside
    return passed + (values - passed).detach()
