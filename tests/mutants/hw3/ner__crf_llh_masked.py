# ruff: noqa: F821
"""The forward algorithm ignores the mask: padded positions are summed over."""

import torch

CHECK = "ner/crf-llh-masked"
MESSAGE = "prefix masks"


def crf_log_likelihood(emissions, tags, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    batch, steps, _ = emissions.shape
    rows = torch.arange(batch)
    on = mask.to(emissions.dtype)
    score = start_transitions[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
    for t in range(1, steps):
        gained = transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]
        score = score + gained * on[:, t]
    last = tags[rows, mask.sum(dim=1) - 1]
    score = score + end_transitions[last]
    alpha = start_transitions + emissions[:, 0]
    for t in range(1, steps):
        nxt = torch.logsumexp(
            alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1
        )
        alpha = nxt
    return score - torch.logsumexp(alpha + end_transitions, dim=1)
