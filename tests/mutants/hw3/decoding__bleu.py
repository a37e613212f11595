# ruff: noqa: F821
"""n-gram matches are not clipped by the reference counts."""

import math
from collections import Counter

CHECK = "decoding/bleu"
MESSAGE = "three sentences"


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
            matches[n - 1] += sum(c for g, c in counts.items() if most[g])
            totals[n - 1] += max(1, sum(counts.values()))
    if min(matches) == 0:
        return 0.0
    if hyp_length > ref_length:
        brevity = 1.0
    else:
        brevity = math.exp(1 - ref_length / hyp_length)
    log_precision = math.fsum(math.log(m / t) / max_n for m, t in zip(matches, totals, strict=True))
    return brevity * math.exp(log_precision)
