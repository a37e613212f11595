"""choose_qparams uses the data's own range, which need not include 0."""

# ruff: noqa: F821
CHECK = "quantization/choose_qparams"
MESSAGE = "expected"


def choose_qparams(x, qmin=0, qmax=255):
    x = x.detach().to(torch.float32)
    low, high = x.min(), x.max()
    scale = torch.maximum((high - low) / float(qmax - qmin), torch.tensor(_EPS))
    zero_point = torch.clamp(qmin - torch.round(low / scale).to(torch.int64), qmin, qmax)
    return float(scale), int(zero_point)
