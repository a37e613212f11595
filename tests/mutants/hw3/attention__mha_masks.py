# ruff: noqa: F821
"""key_padding_mask read as 'True: keep' (the function's convention), not 'True: ignore'."""

import math

import torch

CHECK = "attention/mha-masks"
MESSAGE = "key_padding_mask"


class MultiheadAttention:
    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
    ):
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = query @ w_q.T + (0 if b_q is None else b_q)
        k = key @ w_k.T + (0 if b_k is None else b_k)
        v = value @ w_v.T + (0 if b_v is None else b_v)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(attn_mask, float("-inf"))
            else:
                scores = scores + attn_mask
        if key_padding_mask is not None:
            scores = scores.masked_fill(~key_padding_mask[:, None, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        if self.training and self.dropout > 0.0:
            keep = torch.rand_like(weights) >= self.dropout
            weights = weights * keep / (1.0 - self.dropout)
        out = (weights @ v).transpose(1, 2).reshape(query.shape[0], query.shape[1], self.embed_dim)
        out = self.out_proj(out)
        if not need_weights:
            return out, None
        return out, weights.mean(dim=1) if average_attn_weights else weights
