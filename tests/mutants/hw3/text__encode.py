# ruff: noqa: F821
"""Unknown tokens are encoded as 0 (the padding id) instead of vocab[unk]."""

import torch

CHECK = "text/encode"
MESSAGE = "differs at index"


def encode(tokens, vocab, unk="<unk>"):
    return torch.tensor([vocab.get(t, 0) for t in tokens], dtype=torch.int64)
