"""Benchmark scoring: accuracy on held-out labels relative to the reference recipe's accuracy.

Full points at or above ``reference - tolerance``, zero at or below ``floor``, linear in between.
The labels live only here; the worker returned predictions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import torch

from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of correct predictions, or None if the predictions are malformed."""
    if predictions.shape != labels.shape or predictions.dtype != torch.int64:
        return None
    return float((predictions == labels).double().mean())


def credit(acc: float, reference: float, tolerance: float, floor: float) -> Fraction:
    """Linear credit between the floor and the reference minus tolerance, clamped to [0, 1]."""
    full = reference - tolerance
    if acc >= full:
        return Fraction(1)
    if acc <= floor or full <= floor:
        return Fraction(0)
    return Fraction(round((acc - floor) / (full - floor), 4)).limit_denominator(10000)


def evaluate(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    pair = pairs[0]
    failure = raw_failure(pair)
    if failure:
        return failure
    labels = pair.truth["test_labels"]
    ref_acc = accuracy(pair.reference.outputs["predictions"], labels)
    preds = pair.student.outputs.get("predictions")
    acc = None if preds is None else accuracy(preds, labels)
    if acc is None:
        return Outcome.failed(
            "the trained network did not produce one class prediction per test image"
        )
    curve = pair.student.outputs.get("loss_curve")
    ref_curve = pair.reference.outputs.get("loss_curve")
    metrics = {
        "accuracy": acc,
        "reference_accuracy": ref_acc,
        "test_images": int(labels.numel()),
        "train_seconds": round(float(pair.student.facts.get("train_seconds", 0.0)), 3),
        "reference_train_seconds": round(float(pair.reference.facts.get("train_seconds", 0.0)), 3),
        "loss_curve": [] if curve is None else [round(float(v), 5) for v in curve.tolist()][:1000],
        "reference_loss_curve": []
        if ref_curve is None
        else [round(float(v), 5) for v in ref_curve.tolist()],
        "full_credit_at": round(ref_acc - check.tolerance, 4),
        "floor": check.floor,
    }
    fraction = credit(acc, ref_acc, check.tolerance, check.floor)
    message = (
        f"test accuracy {acc:.2%} on {labels.numel()} images (reference {ref_acc:.2%}; full credit from "
        f"{ref_acc - check.tolerance:.2%}, none at or below {check.floor:.0%}); trained in "
        f"{metrics['train_seconds']:.1f} s"
    )
    status = "passed" if fraction == 1 else "partial" if fraction > 0 else "failed"
    return Outcome(fraction, status, message, metrics=metrics)
