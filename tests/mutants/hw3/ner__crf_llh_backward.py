# ruff: noqa: F821
"""The partition function is computed under torch.no_grad() ("it is only a normaliser")."""

import torch

CHECK = "ner/crf-llh-backward"
MESSAGE = "gradient of"


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
    with torch.no_grad():
        alpha = start_transitions + emissions[:, 0]
        for t in range(1, steps):
            nxt = torch.logsumexp(
                alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1
            )
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        log_partition = torch.logsumexp(alpha + end_transitions, dim=1)
    return score - log_partition
