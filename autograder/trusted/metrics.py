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

from autograder.trusted.linear_probe import probe_accuracy

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


def negative_elbo(
    logits: torch.Tensor, targets: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> float:
    """Mean over images of the negative ELBO of a VAE with a Bernoulli decoder, in nats.

    ``logits`` [K, N, D]: the decoder's logits for K draws of z per image; ``targets`` [N, D]
    in {0, 1}; ``mu``, ``logvar`` [N, L]: the encoder's Gaussian. Per image: the reconstruction
    term (binary cross-entropy with logits, summed over the D pixels, averaged over the K draws)
    plus KL(N(mu, exp(logvar)) || N(0, I)) in closed form. Computed in float64.
    """
    x = targets.double().unsqueeze(0)
    z = logits.double()
    # -log p(x | z) for a Bernoulli with logits z, stable for any |z|
    recon = (torch.clamp(z, min=0) - z * x + torch.log1p(torch.exp(-z.abs()))).sum(-1).mean(0)
    m, lv = mu.double(), logvar.double()
    kl = 0.5 * (m * m + torch.exp(lv) - 1.0 - lv).sum(-1)
    return float((recon + kl).mean())


def mean_confidence(probabilities: torch.Tensor) -> float:
    """Mean over samples of a classifier's largest class probability; ``probabilities``
    [N, C], rows summing to 1."""
    return float(probabilities.double().max(dim=1).values.mean())


def class_entropy(probabilities: torch.Tensor) -> float:
    """Entropy in nats of the histogram of predicted classes (argmax of each row of
    ``probabilities`` [N, C]): ln C when every class is predicted equally often, 0 when one is."""
    counts = torch.bincount(probabilities.argmax(dim=1), minlength=probabilities.shape[1])
    p = counts.double() / max(int(counts.sum()), 1)
    p = p[p > 0]
    return float(-(p * p.log()).sum()) + 0.0  # one class: 0.0, not -0.0


def mean_iou(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> float | None:
    """Mean over classes of IoU = TP / (TP + FP + FN) between integer class maps of the same
    shape (``[H, W]`` or ``[N, H, W]``), skipping classes absent from both; pixels whose target
    is outside ``[0, num_classes)`` (an ignore index) count nowhere. NaN when every class is
    absent; None when the predictions are malformed (another shape, not int64, a class out of
    range)."""
    if predictions.shape != targets.shape or predictions.dtype != torch.int64:
        return None
    p, t = predictions.reshape(-1), targets.reshape(-1)
    if bool(((p < 0) | (p >= num_classes)).any()):
        return None
    valid = (t >= 0) & (t < num_classes)
    pairs = t[valid] * num_classes + p[valid]
    confusion = torch.bincount(pairs, minlength=num_classes * num_classes).double()
    confusion = confusion.reshape(num_classes, num_classes)
    tp = confusion.diagonal()
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = union > 0
    if not bool(present.any()):
        return float("nan")
    return float((tp[present] / union[present]).mean())


def weight_density(weights: list[torch.Tensor], total: int) -> float:
    """Non-zero entries of ``weights`` over ``total`` (the original network's weight count)."""
    return sum(int(torch.count_nonzero(w)) for w in weights) / max(total, 1)


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


def rmse(predictions: torch.Tensor, targets: torch.Tensor) -> float:
    """Root mean squared error of ``predictions`` against ``targets`` (same shape), in float64;
    NaN when there are none or a prediction is not finite."""
    if predictions.shape != targets.shape or targets.numel() == 0:
        return float("nan")
    diff = predictions.double() - targets.double()
    return math.sqrt(float((diff * diff).mean()))


def top_k_hits(
    scores: torch.Tensor, relevant: torch.Tensor, k: int, exclude: torch.Tensor | None = None
) -> torch.Tensor:
    """bool [U, min(k, I)]: whether each user's item at rank 1..k is relevant.

    ``scores`` [U, I] (a NaN score ranks last), ``relevant`` and ``exclude`` bool [U, I]. Items
    are ranked by score, highest first, ties broken by the lower item index; excluded items (a
    user's training items) are never ranked, so they neither fill a rank nor count as hits.
    """
    s = scores.double().nan_to_num(nan=-math.inf)
    if exclude is not None:
        s = s.masked_fill(exclude, -math.inf)
    # a stable sort keeps equal scores in item order: the lower index ranks first
    top = torch.sort(s, dim=1, descending=True, stable=True).indices[:, :k]
    hits = relevant.gather(1, top)
    return hits & ~exclude.gather(1, top) if exclude is not None else hits


def _per_user_mean(values: torch.Tensor, counted: torch.Tensor) -> float:
    """Mean of ``values`` over the users in ``counted``; NaN when no user is."""
    return float(values[counted].mean()) if bool(counted.any()) else float("nan")


def _relevant(relevant: torch.Tensor, exclude: torch.Tensor | None) -> torch.Tensor:
    return relevant & ~exclude if exclude is not None else relevant


def precision_at_k(
    scores: torch.Tensor, relevant: torch.Tensor, k: int, exclude: torch.Tensor | None = None
) -> float:
    """Mean over users with a relevant item of hits in the top ``k`` / ``k`` (``top_k_hits``)."""
    n_relevant = _relevant(relevant, exclude).sum(1)
    hits = top_k_hits(scores, relevant, k, exclude).sum(1).double()
    return _per_user_mean(hits / k, n_relevant > 0)


def recall_at_k(
    scores: torch.Tensor, relevant: torch.Tensor, k: int, exclude: torch.Tensor | None = None
) -> float:
    """Mean over users with a relevant item of hits in the top ``k`` / their relevant items."""
    n_relevant = _relevant(relevant, exclude).sum(1)
    hits = top_k_hits(scores, relevant, k, exclude).sum(1).double()
    counted = n_relevant > 0
    return _per_user_mean(hits / n_relevant.clamp_min(1), counted)


def ndcg_at_k(
    scores: torch.Tensor, relevant: torch.Tensor, k: int, exclude: torch.Tensor | None = None
) -> float:
    """Mean over users with a relevant item of DCG@k / ideal DCG@k, binary gains: DCG = sum of
    rel_i / log2(i + 1) over ranks i = 1..k, the ideal putting min(k, |relevant|) hits first."""
    n_relevant = _relevant(relevant, exclude).sum(1)
    hits = top_k_hits(scores, relevant, k, exclude).double()
    discount = 1.0 / torch.log2(torch.arange(2, hits.shape[1] + 2, dtype=torch.float64))
    dcg = (hits * discount).sum(1)
    ideal_discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    ideal = torch.cumsum(ideal_discount, 0)[(n_relevant.clamp(1, k) - 1)]
    return _per_user_mean(dcg / ideal, n_relevant > 0)


_METRICS = (
    Metric("accuracy", "test accuracy", "higher", percent=True, fn=accuracy),
    Metric("span_f1", "entity span F1", "higher", percent=True, fn=span_f1),
    Metric("bleu", "corpus BLEU", "higher", fn=corpus_bleu),
    Metric("verified", "hypotheses whose score the grader reproduced", "higher", percent=True),
    Metric("mean_iou", "held-out mean IoU", "higher", percent=True, fn=mean_iou),
    Metric("accuracy_drop", "accuracy drop against the original", "lower", percent=True),
    Metric("weight_density", "non-zero weights", "lower", percent=True, fn=weight_density),
    Metric("latency_ratio", "latency against the original", "lower"),
    Metric("neg_elbo", "held-out negative ELBO (nats per image)", "lower", fn=negative_elbo),
    Metric("confidence", "classifier confidence on samples", "higher", True, mean_confidence),
    Metric("class_entropy", "entropy of the sampled classes (nats)", "higher", fn=class_entropy),
    Metric(
        "probe_accuracy", "linear-probe accuracy on held-out images", "higher", True, probe_accuracy
    ),
    Metric("rmse", "held-out RMSE", "lower", fn=rmse),
    Metric("ndcg_at_10", "held-out NDCG@10", "higher", fn=ndcg_at_k),
    Metric("recall_at_10", "held-out recall@10", "higher", percent=True, fn=recall_at_k),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def metric(name: str) -> Metric:
    """The metric called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r} (known: {', '.join(sorted(METRICS))})") from None
