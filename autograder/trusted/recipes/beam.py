"""Recipe ``beam`` (Homework 3), trusted half: BLEU of the student's beam search with the
grader's translator, counting only hypotheses the grader can reproduce.

The worker returned, per held-out source it decoded (in the course secret's order), the
tokens and the score the student's ``beam_search`` claims. Each hypothesis counts only when it
is well formed (ids in the target vocabulary, EOS only at its end, shorter than ``max_len`` only
if it ends in EOS) and its claimed score equals the translator's own log-probability of those
tokens divided by ``length ** length_penalty`` (re-scored here with ``wire/seq2seq.py``, within
1e-6); any other counts as an empty translation. ``bleu`` is the corpus BLEU of the counted
hypotheses (EOS dropped, ids read as the translator's words) against the held-out Spanish
references, which never entered the sandbox; ``verified`` the fraction that counted.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field

from autograder.trusted.metrics import corpus_bleu
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire import seq2seq, text

SCORE_TOLERANCE = 1e-6


class BeamParams(Params):
    beam_size: int = Field(default=4, ge=1, le=64)
    max_len: int = Field(default=24, ge=1, le=200)
    length_penalty: float = Field(default=1.0, ge=0, le=5)
    sentences: int = Field(default=200, ge=1, le=10_000)


def well_formed(tokens: list[int], vocab: int, max_len: int) -> bool:
    """Generated ids (no BOS or PAD), EOS only last, and EOS unless stopped by ``max_len``."""
    if not tokens or len(tokens) > max_len:
        return False
    if any(t < 0 or t >= vocab or t in (seq2seq.PAD, seq2seq.BOS) for t in tokens):
        return False
    if seq2seq.EOS in tokens[:-1]:
        return False
    return tokens[-1] == seq2seq.EOS or len(tokens) == max_len


def verify(
    model: seq2seq.Translator, source: torch.Tensor, tokens: list[int], claimed: float, params
) -> bool:
    """Whether ``claimed`` is the translator's length-normalised log-probability of ``tokens``."""
    if not math.isfinite(claimed):
        return False
    step = seq2seq.TranslatorStep(model, source)
    expected = seq2seq.log_probability(step, tokens) / len(tokens) ** params.length_penalty
    return abs(claimed - expected) <= SCORE_TOLERANCE * (1 + abs(expected))


def measure(trained: Trained) -> dict[str, float]:
    weights, info = trained.fixtures["translator"]
    model = seq2seq.build(weights, info)
    params = trained.params
    held = trained.held_out
    references = text.unpack(held, "reference.")
    words = text.unpack(held, "tgt_vocab.")[0]
    hyps, hyp_len, scores = (
        trained.outputs["hyps"],
        trained.outputs["hyp_len"],
        trained.outputs["scores"],
    )
    count = min(params.sentences, held["src"].shape[0])
    if trained.order is None or hyps.shape != (count, params.max_len) or hyp_len.shape != (count,):
        raise ValueError("the decoded hypotheses do not have the expected shape")
    hypotheses, refs, counted = [], [], 0
    for j in range(count):
        i = int(trained.order[j])  # exposed row j is held-out sentence order[j]
        length = int(hyp_len[j])
        tokens = hyps[j, : max(0, min(length, params.max_len))].tolist()
        source = held["src"][i, : int(held["src_len"][i])]
        ok = (
            length == len(tokens)
            and well_formed(tokens, len(words), params.max_len)
            and verify(model, source, tokens, float(scores[j]), params)
        )
        counted += ok
        hypotheses.append([words[t] for t in tokens if t != seq2seq.EOS] if ok else [])
        refs.append([references[i]])
    return {"bleu": corpus_bleu(hypotheses, refs), "verified": counted / count}


RECIPE = TrustedRecipe(
    name="beam",
    params=BeamParams,
    produces=("bleu", "verified"),
    measure=measure,
    same_state=False,
    exposes=("src", "src_len"),
)
