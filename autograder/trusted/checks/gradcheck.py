"""gradcheck on the trusted side: the student's analytic Jacobian vs central differences.

The worker returns the Jacobian its backward produces and the forward values at x +- eps for each
input element; here we form (f(x+eps) - f(x-eps)) / 2 eps and apply gradcheck's closeness rule
``|analytic - numerical| <= atol + rtol * |numerical|`` (float64, eps 1e-6, atol 1e-5, rtol 1e-3 by
default). This checks the backward against the student's own forward, independently of the
reference.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure


def evaluate(spec: Any, check: Any, pairs: list[ProbePair]) -> Outcome:
    for pair in pairs:
        failure = raw_failure(pair)
        if failure:
            return failure
        out = pair.student.outputs
        jac, plus, minus = out.get("jacobian"), out.get("f_plus"), out.get("f_minus")
        if jac is None or plus is None or minus is None or plus.shape != minus.shape:
            return Outcome.failed(f"{pair.label}: gradcheck data missing")
        numerical = ((plus - minus) / (2 * check.eps)).T.to(torch.float64)
        analytic = jac.to(torch.float64)
        if analytic.shape != numerical.shape:
            return Outcome.failed(
                f"{pair.label}: Jacobian shape {tuple(analytic.shape)} != {tuple(numerical.shape)}"
            )
        if not bool(torch.isfinite(analytic).all()):
            return Outcome.failed(f"{pair.label}: the backward pass produced non-finite gradients")
        diff = (analytic - numerical).abs()
        bad = diff > check.gc_atol + check.gc_rtol * numerical.abs()
        if bool(bad.any()):
            o, i = (int(v) for v in bad.nonzero()[0])
            return Outcome.failed(
                f"{pair.label}: gradcheck failed: d output[{o}] / d input[{i}] is "
                f"{analytic[o, i].item():.6g} from backward but {numerical[o, i].item():.6g} by "
                f"finite differences (max abs difference {diff.max().item():.3g})"
            )
    return Outcome.passed()
