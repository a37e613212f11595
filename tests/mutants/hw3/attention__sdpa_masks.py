# ruff: noqa: F821
"""A boolean attn_mask read with the module's convention (True: masked), not the function's."""

import math

import torch

CHECK = "attention/sdpa-masks"
MESSAGE = "boolean attn_mask"


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * factor
    if is_causal:
        allowed = torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = torch.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        keep = torch.rand_like(weights) >= dropout_p
        weights = weights * keep / (1.0 - dropout_p)
    return weights @ value
