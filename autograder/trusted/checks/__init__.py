"""Trusted comparison: one module per check kind, each turning raw claims into an Outcome.

An outcome is not points: it is a fraction in [0, 1], a status, a message the student may read
(for public tasks) and staff detail. ``scoring.py`` turns fractions into points; which module
judges which kind is registered in ``trusted/kinds.py``.
"""

from autograder.trusted.checks.outcome import Outcome, ProbePair, raw_failure

__all__ = ["Outcome", "ProbePair", "raw_failure"]
