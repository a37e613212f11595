"""The grader's small translator: a GRU encoder-decoder with dot-product attention.

Trained once by the grader on a parallel corpus (``trusted/recipes/beam.py``, cached), then
used on both sides of the translation benchmark: in the worker, ``TranslatorStep`` is the
``step`` function handed to the student's beam search; on the trusted side the same step
re-scores every hypothesis the student returned. Both run this code, in float64, so a correct
beam search's scores are reproduced to the last bits.

Architecture (Luong et al. 2015, "global attention", no input feeding): source embedding ->
GRU; target embedding -> GRU started from the encoder's last state; at each target position
the decoder state attends over the encoder states (dot product, source padding masked), and
``tanh(W [state; context])`` -> a linear layer over the target vocabulary.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

PAD, UNK, BOS, EOS = 0, 1, 2, 3


class Translator(nn.Module):
    def __init__(self, src_vocab: int, tgt_vocab: int, embed: int, hidden: int) -> None:
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed, padding_idx=PAD)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, tgt_vocab)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(encoder states [B, S, H], the state at each source's last token [1, B, H])."""
        states, _ = self.encoder(self.src_embed(src))
        last = states[torch.arange(src.shape[0]), src_len - 1]
        return states, last.unsqueeze(0).contiguous()

    def attend(
        self, dec: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor
    ) -> torch.Tensor:
        """Logits [B, T, V] from decoder states [B, T, H] over ``memory`` [B, S, H];
        ``src_mask`` [B, S] is True at real source tokens."""
        scores = dec @ memory.transpose(1, 2)
        scores = scores.masked_fill(~src_mask.unsqueeze(1), float("-inf"))
        context = torch.softmax(scores, dim=-1) @ memory
        return self.out(torch.tanh(self.combine(torch.cat([dec, context], dim=-1))))

    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced logits [B, T, V] for targets that start with BOS (``tgt_in``)."""
        memory, last = self.encode(src, src_len)
        dec, _ = self.decoder(self.tgt_embed(tgt_in), last)
        mask = torch.arange(src.shape[1]).unsqueeze(0) < src_len.unsqueeze(1)
        return self.attend(dec, memory, mask)


def build(state: dict[str, torch.Tensor], info: dict[str, Any]) -> Translator:
    """A float64 translator holding ``state`` (the fixture's tensors, names without prefix)."""
    embed = int(state["src_embed.weight"].shape[1])
    hidden = int(state["combine.weight"].shape[0])
    model = Translator(int(info["src_vocab_size"]), int(info["tgt_vocab_size"]), embed, hidden)
    model.load_state_dict(state)
    return model.double().eval()


class TranslatorStep:
    """``step(prefix)`` for one source sentence: prefix int64 [B, t] (BOS first) -> float64
    log-probabilities [B, V] of the next token. Decoder states are kept per prefix (a beam
    search extends prefixes it has scored), so a call costs one GRU step per new row."""

    def __init__(self, model: Translator, src: torch.Tensor) -> None:
        self.model = model
        self.vocab = model.out.out_features
        gru = model.decoder
        self.w_ih, self.w_hh = gru.weight_ih_l0, gru.weight_hh_l0
        self.b_ih, self.b_hh = gru.bias_ih_l0, gru.bias_hh_l0
        with torch.no_grad():
            ids = src.reshape(1, -1).to(torch.int64)
            memory, first = model.encode(ids, torch.tensor([ids.shape[1]]))
        self.memory = memory[0]  # [S, H]
        # the state before the decoder has read anything: the encoder's last
        self.states: dict[tuple[int, ...], torch.Tensor] = {(): first[0, 0]}
        self.calls = 0

    def _gru(self, tokens: list[int], before: torch.Tensor) -> torch.Tensor:
        """One decoder GRU step for each row: (tokens [n], states [n, H]) -> states [n, H]."""
        x = self.model.tgt_embed.weight[torch.tensor(tokens)]
        r_i, z_i, n_i = (x @ self.w_ih.T + self.b_ih).chunk(3, dim=1)
        r_h, z_h, n_h = (before @ self.w_hh.T + self.b_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
        n = torch.tanh(n_i + r * n_h)
        return (1 - z) * n + z * before

    def _states(self, rows: list[tuple[int, ...]]) -> torch.Tensor:
        """The decoder state [len(rows), H] after reading each prefix (BOS included)."""
        missing = sorted({r for r in rows if r not in self.states}, key=len)
        for length in sorted({len(r) for r in missing}):
            batch = [r for r in missing if len(r) == length and r not in self.states]
            before = torch.stack([self._state(r[:-1]) for r in batch])
            for row, state in zip(batch, self._gru([r[-1] for r in batch], before), strict=True):
                if len(self.states) < 100_000:
                    self.states[row] = state
        return torch.stack([self._state(r) for r in rows])

    def _state(self, row: tuple[int, ...]) -> torch.Tensor:
        found = self.states.get(row)
        if found is None:  # a prefix never scored (or the cache is full): read it step by step
            found = self._gru([row[-1]], self._state(row[:-1]).unsqueeze(0))[0]
        return found

    @torch.no_grad()
    def __call__(self, prefix: torch.Tensor) -> torch.Tensor:
        rows = _check_prefix(prefix, self.vocab)
        self.calls += 1
        dec = self._states(rows)  # [B, H]
        weights = torch.softmax(dec @ self.memory.T, dim=-1)  # [B, S]
        combined = torch.tanh(self.model.combine(torch.cat([dec, weights @ self.memory], dim=-1)))
        return torch.log_softmax(self.model.out(combined), dim=-1)


def _check_prefix(prefix: Any, vocab: int) -> list[tuple[int, ...]]:
    if not isinstance(prefix, torch.Tensor) or prefix.dim() != 2 or prefix.dtype != torch.int64:
        raise TypeError("step expects an int64 tensor [batch, length] of token ids")
    if prefix.shape[0] == 0 or prefix.shape[1] == 0:
        raise ValueError(f"step expects at least one row and one token, got {tuple(prefix.shape)}")
    rows = [tuple(r) for r in prefix.tolist()]
    if any(t < 0 or t >= vocab for r in rows for t in r):
        raise ValueError(f"step got a token id outside 0..{vocab - 1}")
    return rows


def log_probability(step: TranslatorStep, tokens: list[int]) -> float:
    """The model's log-probability of generating ``tokens`` (after BOS), step by step."""
    total = 0.0
    for i, token in enumerate(tokens):
        prefix = torch.tensor([[BOS, *tokens[:i]]], dtype=torch.int64)
        total += float(step(prefix)[0, token])
    return total


def batches(
    train: dict[str, torch.Tensor], batch: int, generator: torch.Generator
) -> list[tuple[torch.Tensor, ...]]:
    """One epoch of teacher-forcing batches: (src, src_len, decoder input, target), shuffled
    by ``generator``; the decoder input starts with BOS, the target ends with EOS, PAD after."""
    n = train["src"].shape[0]
    out = []
    for idx in torch.randperm(n, generator=generator).split(batch):
        src_len, tgt_len = train["src_len"][idx], train["tgt_len"][idx]
        src = train["src"][idx][:, : int(src_len.max())]
        steps = int(tgt_len.max()) + 1
        tgt = torch.full((idx.numel(), steps), PAD, dtype=torch.int64)
        tgt[:, : steps - 1] = train["tgt"][idx][:, : steps - 1]
        tgt[torch.arange(idx.numel()), tgt_len] = EOS
        dec_in = torch.cat([torch.full((idx.numel(), 1), BOS), tgt[:, :-1]], dim=1)
        dec_in = dec_in.masked_fill(dec_in == EOS, PAD)
        out.append((src, src_len, dec_in, tgt))
    return out
