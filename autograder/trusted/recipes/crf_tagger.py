"""Recipe ``crf_tagger`` (Homework 3), trusted half: held-out entity span F1 of the grader's
tagger trained with the student's CRF log-likelihood.

The worker returned the trained state; here the grader's own tagger (``wire/tagger.py``) gives
the held-out tweets' emissions and the grader's own Viterbi decodes them with the trained
transitions; spans are scored with ``metrics.span_f1`` (seqeval's default rules). The held-out
tweets never entered the sandbox.
"""

from __future__ import annotations

import torch
from pydantic import Field

from autograder.trusted.metrics import span_f1
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.tagger import rebuild


class TaggerParams(Params):
    embed: int = Field(default=48, ge=1, le=512)
    hidden: int = Field(default=48, ge=1, le=512)
    epochs: int = Field(default=6, ge=1, le=100)
    batch_size: int = Field(default=32, ge=1, le=4096)
    lr: float = Field(default=0.01, gt=0)


def viterbi(
    emissions: torch.Tensor,
    length: int,
    start: torch.Tensor,
    end: torch.Tensor,
    trans: torch.Tensor,
) -> list[int]:
    """The best tag path of one sentence: emissions [T, K], its first ``length`` positions."""
    score = start + emissions[0]
    history = []
    for t in range(1, length):
        score, index = (score.unsqueeze(1) + trans + emissions[t].unsqueeze(0)).max(dim=0)
        history.append(index)
    path = [int((score + end).argmax())]
    for index in reversed(history):
        path.append(int(index[path[-1]]))
    return path[::-1]


@torch.no_grad()
def measure(trained: Trained) -> dict[str, float]:
    state = trained.state()
    tagger = rebuild(state)
    names = trained.info["tags"]
    held = trained.held_out
    emissions = tagger(held["tokens"]).double()
    start, end = state["start_transitions"].double(), state["end_transitions"].double()
    trans = state["transitions"].double()
    true, pred = [], []
    for i, length in enumerate(held["lengths"].tolist()):
        path = viterbi(emissions[i], length, start, end, trans)
        pred.append([names[t] for t in path])
        true.append([names[t] for t in held["tags"][i, :length].tolist()])
    return {"span_f1": span_f1(true, pred)}


RECIPE = TrustedRecipe(
    name="crf_tagger", params=TaggerParams, produces=("span_f1",), measure=measure
)
