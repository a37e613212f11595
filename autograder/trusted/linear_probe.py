"""The linear probe: how good frozen features are, as the held-out accuracy of a multinomial
logistic regression fitted on the training features (trusted side only).

Deterministic: standardised features (the training set's mean and standard deviation), float64,
full-batch L-BFGS with a strong-Wolfe line search from zero weights for a fixed number of
iterations, the objective mean cross-entropy + ``l2`` / 2 * |W|^2 (the bias is not penalised);
the same features give the same accuracy on every run. It matches scikit-learn's
``LogisticRegression(C=1 / (l2 * N))`` (tests/test_hw5.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def fit(
    features: torch.Tensor, labels: torch.Tensor, classes: int, l2: float, iterations: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(weight float64 [D, classes], bias [classes], mean [D], std [D]) of the probe fitted on
    ``features`` [N, D] with int64 ``labels`` [N] in 0..classes-1."""
    x = features.double()
    mean = x.mean(0)
    # a constant feature carries nothing: divide it by 1, not by 0
    std = x.std(0, unbiased=False)
    std = torch.where(std > 1e-12, std, torch.ones_like(std))
    x = (x - mean) / std
    weight = torch.zeros(x.shape[1], classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight, bias],
        lr=1.0,
        max_iter=iterations,
        history_size=20,
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
        line_search_fn="strong_wolfe",
    )

    def objective() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, labels) + 0.5 * l2 * (weight * weight).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(objective)
    return weight.detach(), bias.detach(), mean, std


@torch.no_grad()
def probe_accuracy(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    l2: float = 1e-3,
    iterations: int = 200,
) -> float:
    """Held-out accuracy (a fraction) of the probe fitted on the training features; NaN when any
    feature is not finite (a diverged encoder earns nothing)."""
    if not (
        bool(torch.isfinite(train_features).all()) and bool(torch.isfinite(test_features).all())
    ):
        return math.nan
    classes = int(max(int(train_labels.max()), int(test_labels.max()))) + 1
    weight, bias, mean, std = fit(train_features, train_labels, classes, l2, iterations)
    logits = ((test_features.double() - mean) / std) @ weight + bias
    return float((logits.argmax(1) == test_labels).double().mean())
