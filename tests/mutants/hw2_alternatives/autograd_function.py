"""fake_quantize as a torch.autograd.Function with the straight-through mask saved for its
backward, quantization through torch.reciprocal, and choose_qparams with Python branches."""

# ruff: noqa: F821


class _FakeQuantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax):
        inv = torch.reciprocal(torch.tensor(scale, dtype=torch.float32))
        q = torch.round(x * inv) + zero_point
        ctx.save_for_backward((q >= qmin) & (q <= qmax))
        return (q.clamp(qmin, qmax) - zero_point) * torch.tensor(scale, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (inside,) = ctx.saved_tensors
        return grad_out * inside.to(grad_out.dtype), None, None, None, None


def fake_quantize(x, scale, zero_point, qmin, qmax):
    return _FakeQuantize.apply(x, scale, zero_point, qmin, qmax)


def quantize_per_tensor(x, scale, zero_point, qmin=0, qmax=255):
    inv = torch.reciprocal(torch.tensor(scale, dtype=torch.float32))
    q = torch.round(x.float() * inv).to(torch.int64) + zero_point
    return q.clamp(qmin, qmax).to(torch.uint8)


def dequantize(q, scale, zero_point):
    return (q.int() - zero_point).float() * torch.tensor(scale, dtype=torch.float32)


def choose_qparams(x, qmin=0, qmax=255):
    low = torch.clamp(x.detach().float().min(), max=0.0)
    high = torch.clamp(x.detach().float().max(), min=0.0)
    scale = (high - low) / float(qmax - qmin)
    if float(scale) < _EPS:
        scale = torch.tensor(_EPS, dtype=torch.float32)
    zero_point = int(qmin - torch.round(low / scale))
    return float(scale), min(max(zero_point, qmin), qmax)
