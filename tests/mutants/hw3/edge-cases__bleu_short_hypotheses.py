# ruff: noqa: F821
"""The n-gram count of a hypothesis shorter than n adds 0 to the denominator, not 1."""

import math
from collections import Counter

CHECK = "edge-cases/bleu-short-hypotheses"
MESSAGE = "hypotheses shorter than max_n"


def corpus_bleu(hypotheses, references, max_n=4):
    matches, totals = [0] * max_n, [0] * max_n
    hyp_length = ref_length = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        hyp_length += len(hyp)
        ref_length += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = _ngrams(hyp, n)
            most = Counter()
            for ref in refs:
                most |= _ngrams(ref, n)
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            totals[n - 1] += sum(counts.values())
    if min(matches) == 0:
        return 0.0
    brevity = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / hyp_length)
    return brevity * math.exp(
        math.fsum(math.log(m / t) / max_n for m, t in zip(matches, totals, strict=True))
    )
