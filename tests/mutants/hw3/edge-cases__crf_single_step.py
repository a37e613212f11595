# ruff: noqa: F821
"""The gold path score stacks one term per transition: torch.stack([]) fails when T = 1."""

import torch

CHECK = "edge-cases/crf-single-step"
MESSAGE = "T=1: no transition at all"


def crf_log_likelihood(emissions, tags, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    batch, steps, _ = emissions.shape
    rows = torch.arange(batch)
    on = mask.to(emissions.dtype)
    score = start_transitions[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
    gained = torch.stack(
        [
            (transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]) * on[:, t]
            for t in range(1, steps)
        ]
    )
    score = score + gained.sum(dim=0)
    last = tags[rows, mask.sum(dim=1) - 1]
    score = score + end_transitions[last]
    alpha = start_transitions + emissions[:, 0]
    for t in range(1, steps):
        nxt = torch.logsumexp(
            alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1
        )
        alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
    return score - torch.logsumexp(alpha + end_transitions, dim=1)
