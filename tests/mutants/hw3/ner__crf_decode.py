# ruff: noqa: F821
"""Viterbi forgets the end transitions."""

import torch

CHECK = "ner/crf-decode"
MESSAGE = "strong end transitions"


def crf_decode(emissions, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    batch, steps, _ = emissions.shape
    score = start_transitions + emissions[:, 0]
    history = []
    for t in range(1, steps):
        best, index = (score.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1)).max(dim=1)
        score = torch.where(mask[:, t].unsqueeze(1), best, score)
        history.append(index)
    out = torch.full((batch, steps), -1, dtype=torch.int64)
    for b in range(batch):
        length = int(mask[b].sum())
        path = [int(score[b].argmax())]
        for index in reversed(history[: length - 1]):
            path.append(int(index[b, path[-1]]))
        out[b, :length] = torch.tensor(path[::-1])
    return out
