# ruff: noqa: F821
"""The log-likelihood is the gold path's score alone (no partition function): maximising it
pushes every score up and the tagger learns nothing."""

import torch


def crf_log_likelihood(emissions, tags, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    batch, steps, _ = emissions.shape
    rows = torch.arange(batch)
    on = mask.to(emissions.dtype)
    score = start_transitions[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
    for t in range(1, steps):
        gained = transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]
        score = score + gained * on[:, t]
    return score + end_transitions[tags[rows, mask.sum(dim=1) - 1]]
