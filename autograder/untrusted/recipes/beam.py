"""Recipe ``beam`` (Homework 3): the student's beam search decodes held-out sources with the
grader's translator.

The translator is a fixture (``translator``: trained once by the grader, never by student
code). Each held-out English source (they arrive shuffled by the course secret; the Spanish
references never do) gets a ``step`` over the translator (``wire/seq2seq.TranslatorStep``)
and the student's ``beam_search(step, BOS, EOS, beam_size, max_len, length_penalty)``. Returns
every hypothesis with the score the student claims for it; the trusted side re-scores each with
the same translator before its BLEU counts.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import Budget, component, fixture, train_split
from autograder.wire import seq2seq


def _hypothesis(result: Any, name: str, max_len: int) -> tuple[list[int], float]:
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ProbeError("error", f"{name} must return a tuple (tokens, score)")
    tokens, score = result
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 1:
        raise ProbeError("error", f"{name} must return its tokens as a 1-D tensor")
    if tokens.is_floating_point() or tokens.numel() > max_len:
        raise ProbeError("error", f"{name} returned {tokens.numel()} tokens, at most {max_len}")
    if not isinstance(score, numbers.Real):
        raise ProbeError("error", f"{name} must return its score as a float")
    return [int(t) for t in tokens.tolist()], float(score)


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    weights, info = fixture(header, tensors, "translator")
    model = seq2seq.build(weights, info)
    sources, lengths = data["held_out_src"], data["held_out_src_len"]
    count = min(int(params["sentences"]), sources.shape[0])
    max_len = int(params["max_len"])
    beam_search = component(module, header, "beam_search")
    name = header["components"]["beam_search"]
    hyps = torch.full((count, max_len), -1, dtype=torch.int64)
    hyp_len = torch.zeros(count, dtype=torch.int64)
    scores = torch.full((count,), math.nan, dtype=torch.float64)
    for i in range(count):
        step = seq2seq.TranslatorStep(model, sources[i, : int(lengths[i])])
        with guard:
            result = beam_search(
                step,
                seq2seq.BOS,
                seq2seq.EOS,
                int(params["beam_size"]),
                max_len,
                float(params["length_penalty"]),
            )
        tokens, score = _hypothesis(result, name, max_len)
        hyps[i, : len(tokens)] = torch.tensor(tokens, dtype=torch.int64)
        hyp_len[i], scores[i] = len(tokens), score
        budget.check()
    return {"hyps": hyps, "hyp_len": hyp_len, "scores": scores}, budget.facts()
