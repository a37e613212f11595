"""xavier_uniform_ delegates to nn.init.xavier_uniform_ imported under another name."""

from torch.nn.init import xavier_uniform_ as _xavier


def xavier_uniform_(tensor, gain=1.0):
    return _xavier(tensor, gain=gain)
