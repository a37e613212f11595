"""Strings as tensors: token lists cross the boundary as UTF-8 bytes and offsets, never pickles.

``pack`` turns a list of token lists into three tensors: ``bytes`` (uint8, every token's UTF-8
bytes end to end), ``token_ends`` (int64, the end offset of each token in ``bytes``) and
``list_ends`` (int64, the end index of each list in the token sequence). ``unpack`` reverses
it and checks every offset first. Both sides use it: the trusted side packs a dataset's text,
the worker unpacks its training split.
"""

from __future__ import annotations

import torch


def pack(lists: list[list[str]], prefix: str = "") -> dict[str, torch.Tensor]:
    """``{prefix}bytes``, ``{prefix}token_ends`` and ``{prefix}list_ends`` for ``lists``."""
    encoded = [token.encode("utf-8") for tokens in lists for token in tokens]
    lengths = torch.tensor([len(b) for b in encoded], dtype=torch.int64)
    sizes = torch.tensor([len(tokens) for tokens in lists], dtype=torch.int64)
    data = b"".join(encoded)
    return {
        f"{prefix}bytes": torch.frombuffer(bytearray(data), dtype=torch.uint8)
        if data
        else torch.zeros(0, dtype=torch.uint8),
        f"{prefix}token_ends": torch.cumsum(lengths, 0) if len(encoded) else lengths,
        f"{prefix}list_ends": torch.cumsum(sizes, 0) if len(lists) else sizes,
    }


def unpack(tensors: dict[str, torch.Tensor], prefix: str = "") -> list[list[str]]:
    """The token lists ``pack`` encoded; ``ValueError`` if the tensors are inconsistent."""
    data = tensors[f"{prefix}bytes"]
    token_ends = tensors[f"{prefix}token_ends"].tolist()
    list_ends = tensors[f"{prefix}list_ends"].tolist()
    if data.dtype != torch.uint8 or data.dim() != 1:
        raise ValueError("packed text bytes must be a 1-D uint8 tensor")
    if any(b < a for a, b in zip([0, *token_ends], token_ends, strict=False)) or (
        token_ends and token_ends[-1] != data.numel()
    ):
        raise ValueError("packed token offsets are not increasing to the end of the bytes")
    if any(b < a for a, b in zip([0, *list_ends], list_ends, strict=False)) or (
        list_ends and list_ends[-1] != len(token_ends)
    ):
        raise ValueError("packed list offsets are not increasing to the last token")
    raw = data.numpy().tobytes()
    tokens = [
        raw[start:end].decode("utf-8")
        for start, end in zip([0, *token_ends], token_ends, strict=False)
    ]
    return [tokens[start:end] for start, end in zip([0, *list_ends], list_ends, strict=False)]
