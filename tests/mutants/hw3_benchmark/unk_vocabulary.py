# ruff: noqa: F821
"""encode maps every token to <unk>: the classifier sees one word and cannot learn."""

import torch


def encode(tokens, vocab, unk="<unk>"):
    return torch.full((len(tokens),), vocab[unk], dtype=torch.int64)
