"""The metric registry: what a trained-model check can measure, and which way is better.

Metrics are computed on the trusted side only, from predictions the grader's own components
made (or from outputs the trusted side has validated) against truth that never entered the
sandbox. Each has a direction, so one credit rule serves accuracy (higher is better) and RMSE
or a negative ELBO (lower is better). A recipe (``trusted/recipes``) says which metrics it
produces; a spec credits them by name.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    """A measurement a spec can credit: ``percent`` metrics are fractions shown as %."""

    name: str
    label: str
    direction: Direction
    percent: bool = False
    # A reusable implementation recipes call (and tests hold against an independent oracle).
    fn: Callable[..., float] | None = None

    def show(self, value: float) -> str:
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        return f"{value:.2%}" if self.percent else f"{value:.4g}"

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is at least as good as ``b``."""
        return a >= b if self.direction == "higher" else a <= b


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of correct class predictions; None when the predictions are malformed
    (another shape than the labels, or not int64)."""
    if predictions.shape != labels.shape or predictions.dtype != torch.int64:
        return None
    if labels.numel() == 0:
        return float("nan")
    return float((predictions == labels).double().mean())


def _entities(tags: list[str]) -> list[tuple[str, int, int]]:
    """(type, start, end inclusive) entity spans of B/I/O tags, seqeval's default rules: an
    I- tag after O or after another type starts an entity, as B- does."""
    spans: list[tuple[str, int, int]] = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        begins = prefix == "B" or (prefix == "I" and label != kind)
        if kind is not None and (prefix == "O" or begins):
            spans.append((kind, start, i - 1))
            kind = None
        if prefix != "O" and (begins or kind is None):
            kind, start = label, i
    return spans


def span_f1(y_true: list[list[str]], y_pred: list[list[str]]) -> float:
    """Micro-averaged F1 over exact entity spans (type, start, end) of tagged sentences, as
    seqeval's ``f1_score`` in its default mode; 0 when neither side has an entity."""
    true = {(i, *s) for i, tags in enumerate(y_true) for s in _entities(tags)}
    pred = {(i, *s) for i, tags in enumerate(y_pred) for s in _entities(tags)}
    correct = len(true & pred)
    if not correct:
        return 0.0
    precision, recall = correct / len(pred), correct / len(true)
    return 2 * precision * recall / (precision + recall)


def corpus_bleu(
    hypotheses: list[list[str]], references: list[list[list[str]]], max_n: int = 4
) -> float:
    """Corpus BLEU (Papineni et al. 2002) of token lists against lists of reference token
    lists: clipped n-gram counts and lengths summed over the corpus, uniform weights 1/max_n,
    the brevity penalty with the closest reference length; as nltk's ``corpus_bleu`` without
    smoothing, except that a zero precision gives exactly 0 (nltk: about 1e-77)."""
    matches, totals = [0] * max_n, [0] * max_n
    hyp_length = ref_length = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        hyp_length += len(hyp)
        ref_length += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
            most: Counter = Counter()
            for ref in refs:
                most |= Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            totals[n - 1] += max(1, sum(counts.values()))
    if min(matches) == 0:
        return 0.0
    brevity = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / hyp_length)
    return brevity * math.exp(
        math.fsum(math.log(m / t) / max_n for m, t in zip(matches, totals, strict=True))
    )


_METRICS = (
    Metric("accuracy", "test accuracy", "higher", percent=True, fn=accuracy),
    Metric("span_f1", "entity span F1", "higher", percent=True, fn=span_f1),
    Metric("bleu", "corpus BLEU", "higher", fn=corpus_bleu),
    Metric("verified", "hypotheses whose score the grader reproduced", "higher", percent=True),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def metric(name: str) -> Metric:
    """The metric called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))})") from None
