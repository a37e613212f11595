"""Callables the grader hands to student code: a decoder's ``step`` model.

A spec argument ``{ fn = "lm", params = {...}, options = {...} }`` arrives in the student's
function as ``build("lm", tensors, options)``: a deterministic function of the prefix, so a
decoder's output is exact and the same for the student and the reference. The tensors are
generated on the trusted side from the case's seed like any other input.

``lm``: ``step(prefix)`` with ``prefix`` int64 [B, t] (BOS first) returns float64
log-probabilities [B, V] of the next token:

    h      = tanh(context[row] + sum_i decay^(t-1-i) * embed[prefix[:, i]])
    logits = h @ out + bias;  logits[:, eos] += eos_ramp * t
    logits = round(logits / quantum) * quantum        (when quantum > 0)
    step   = log_softmax(logits)

``context`` has one row per decoded sequence (greedy decoding of a batch: row i is sequence
i) or a single row for any batch (beam search over one source). Rounding to a power-of-two
``quantum`` makes exact ties between tokens, and, with ``embed`` zero, between hypotheses.
Each row's arithmetic is elementwise then reduced per row, so a row's result does not depend
on which other rows share the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


class LanguageModelStep:
    """The ``lm`` step (see the module docstring); ``calls`` counts the calls made."""

    def __init__(self, params: dict[str, torch.Tensor], options: dict[str, Any]) -> None:
        self.embed = params["embed"].double()  # [V, H]
        self.out = params["out"].double()  # [H, V]
        self.bias = params["bias"].double()  # [V]
        self.context = params["context"].double()  # [R, H], R = 1 or the batch size
        self.decay = float(options.get("decay", 0.5))
        self.quantum = float(options.get("quantum", 0.0))
        self.eos = int(options.get("eos_id", -1))
        self.eos_ramp = float(options.get("eos_ramp", 0.0))
        self.vocab = int(self.bias.shape[0])
        self.calls = 0

    @torch.no_grad()
    def __call__(self, prefix: torch.Tensor) -> torch.Tensor:
        if not isinstance(prefix, torch.Tensor) or prefix.dim() != 2:
            raise TypeError("step expects a 2-D int64 tensor [batch, length] of token ids")
        if prefix.dtype != torch.int64:
            raise TypeError(f"step expects int64 token ids, got {prefix.dtype}")
        rows, length = prefix.shape
        if rows == 0 or length == 0:
            raise ValueError(
                f"step expects at least one row and one token, got {tuple(prefix.shape)}"
            )
        if bool((prefix < 0).any()) or bool((prefix >= self.vocab).any()):
            raise ValueError(f"step got a token id outside 0..{self.vocab - 1}")
        if self.context.shape[0] not in (1, rows):
            raise ValueError(
                f"step decodes {self.context.shape[0]} sequences, got a batch of {rows} rows"
            )
        self.calls += 1
        weights = self.decay ** torch.arange(length - 1, -1, -1, dtype=torch.float64)
        h = torch.tanh(self.context + (self.embed[prefix] * weights[None, :, None]).sum(1))
        logits = (h.unsqueeze(-1) * self.out.unsqueeze(0)).sum(1) + self.bias
        if 0 <= self.eos < self.vocab and self.eos_ramp:
            logits[:, self.eos] += self.eos_ramp * length
        if self.quantum > 0:
            logits = torch.round(logits / self.quantum) * self.quantum
        return torch.log_softmax(logits, dim=-1)


STEPS: dict[str, Callable[[dict[str, torch.Tensor], dict[str, Any]], Any]] = {
    "lm": LanguageModelStep,
}


def build(name: str, params: dict[str, torch.Tensor], options: dict[str, Any]) -> Any:
    """The grader's callable ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        maker = STEPS[name]
    except KeyError:
        raise KeyError(f"unknown callable {name!r} (known: {', '.join(sorted(STEPS))})") from None
    return maker(params, options)
