"""Trained-model checks: measure what the worker trained on held-out truth, credit each metric
relative to the reference recipe (or to fixed bounds), in the metric's own direction.

The worker returned trained state (or, for the ``custom`` recipe, predictions); the trusted
recipe predicts and measures with the grader's own components. The reference's measurements
are made once and kept with its raw results.
"""

from __future__ import annotations

import math
import traceback
from fractions import Fraction
from typing import Any

import torch

from autograder.points import fraction_str
from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure
from autograder.trusted.credit import band
from autograder.trusted.metrics import metric
from autograder.trusted.raw import ProbeRaw
from autograder.trusted.recipes import HeldOut, Trained, TrustedRecipe, recipe


def state_mismatch(student: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> str:
    """Why the student's trained state cannot stand in for the reference's, or ''."""
    want = {k: v for k, v in reference.items() if k.startswith("state.")}
    have = {k: v for k, v in student.items() if k.startswith("state.")}
    missing = sorted(set(want) - set(have))
    if missing:
        return f"the trained model has no {missing[0][6:]!r}"
    extra = sorted(set(have) - set(want))
    if extra:
        return f"the trained model returned an unexpected tensor {extra[0][6:]!r}"
    for name, ref in want.items():
        got = have[name]
        if got.shape != ref.shape or got.dtype != ref.dtype:
            return (
                f"the trained model's {name[6:]} is {got.dtype} {tuple(got.shape)}, "
                f"expected {ref.dtype} {tuple(ref.shape)}"
            )
    return ""


def _curves(outputs: dict[str, torch.Tensor]) -> dict[str, list[float]]:
    return {
        k[6:]: [round(float(v), 5) for v in t.reshape(-1).tolist()[:1000]]
        for k, t in sorted(outputs.items())
        if k.startswith("curve.") and t.is_floating_point()
    }


def _fixtures(pair: ProbePair) -> dict[str, tuple[dict[str, torch.Tensor], dict[str, Any]]]:
    """The fixtures the probe carried (``fixture|<name>|<key>`` inputs, header info)."""
    info = pair.probe.header.get("fixtures") or {}
    return {
        name: (
            {
                k.split("|", 2)[2]: v
                for k, v in pair.probe.tensors.items()
                if k.startswith(f"fixture|{name}|")
            },
            details,
        )
        for name, details in info.items()
    }


def _measure(
    raw: ProbeRaw, trained_recipe: TrustedRecipe, held: HeldOut, params: Any, pair: ProbePair
) -> dict:
    trained = Trained(
        raw.outputs, raw.facts, held.tensors, held.info, params, held.order, _fixtures(pair)
    )
    values = trained_recipe.measure(trained)
    return {name: float(values.get(name, math.nan)) for name in trained_recipe.produces}


def _reference_values(pair: ProbePair, trained_recipe: TrustedRecipe, held: HeldOut, params):
    cached = pair.reference.derived.get("measured")
    if cached is None:
        cached = pair.reference.derived["measured"] = _measure(
            pair.reference, trained_recipe, held, params, pair
        )
    return cached


def _seconds(raw: ProbeRaw) -> float:
    value = raw.facts.get("train_seconds", 0.0)
    return round(float(value), 3) if isinstance(value, int | float) else 0.0


def evaluate(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    pair = pairs[0]
    failure = raw_failure(pair)
    if failure:
        return failure
    held = pair.truth.get(check.dataset)
    trained_recipe = recipe(check.recipe)
    if not isinstance(held, HeldOut):
        return Outcome.failed(
            "the grader has no held-out data for this check; staff have been told",
            status="grader error",
            detail=f"dataset {check.dataset!r} not loaded",
        )
    params = trained_recipe.params.model_validate(pair.probe.header["params"])
    reference = _reference_values(pair, trained_recipe, held, params)
    if trained_recipe.same_state:
        problem = state_mismatch(pair.student.outputs, pair.reference.outputs)
        if problem:
            return Outcome.failed(problem)
    try:
        values = _measure(pair.student, trained_recipe, held, params, pair)
    except Exception as exc:  # noqa: BLE001 - malformed outputs the recipe could not use
        return Outcome.failed(
            f"the trained model could not be evaluated ({type(exc).__name__}: {exc})"[:500],
            detail=traceback.format_exc()[-2000:],
        )
    total, weights, credits, parts = Fraction(0), Fraction(0), [], []
    fractions: list[Fraction] = []
    for entry in check.credit:
        m = metric(entry.metric)
        rule = band(
            entry.rule,
            m.direction,
            reference=reference[entry.metric],
            tolerance=entry.tolerance,
            floor=entry.floor,
            full=entry.full,
        )
        value = values[entry.metric]
        fraction = rule.fraction(value)
        weight = Fraction(str(entry.weight))
        total += weight * fraction
        weights += weight
        fractions.append(fraction)
        worse = "at or below" if m.direction == "higher" else "at or above"
        parts.append(
            f"{m.label} {m.show(value)} (reference {m.show(reference[entry.metric])}; full "
            f"credit from {m.show(rule.full_at)}, none {worse} {m.show(rule.zero_at)})"
        )
        credits.append(
            {
                "metric": entry.metric,
                "value": value,
                "reference": reference[entry.metric],
                "full_at": rule.full_at,
                "zero_at": rule.zero_at,
                "direction": m.direction,
                "unit": m.percent,
                "fraction": fraction_str(fraction),
            }
        )
    # "min": every credited metric must hold (one good metric cannot buy another's points)
    fraction = total / weights if check.combine == "mean" else min(fractions)
    credited = {entry.metric for entry in check.credit}
    for name in trained_recipe.produces:
        if name not in credited:
            m = metric(name)
            parts.append(
                f"{m.label} {m.show(values[name])} (reference {m.show(reference[name])}; "
                "reported, not scored)"
            )
    seconds = _seconds(pair.student)
    metrics: dict[str, Any] = {
        "recipe": check.recipe,
        "dataset": check.dataset,
        "held_out": held.info.get("held_out"),
        "secret": held.secret,
        **{name: value for name, value in values.items()},
        **{f"reference_{name}": value for name, value in reference.items()},
        "credit": credits,
        "curves": _curves(pair.student.outputs),
        "reference_curves": _curves(pair.reference.outputs),
        "train_seconds": seconds,
        "reference_train_seconds": _seconds(pair.reference),
    }
    message = "; ".join(parts) + f"; trained in {seconds:.1f} s of CPU time"
    status = "passed" if fraction == 1 else "partial" if fraction > 0 else "failed"
    return Outcome(fraction, status, message, metrics=metrics)
