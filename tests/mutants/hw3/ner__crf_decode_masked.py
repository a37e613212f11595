# ruff: noqa: F821
"""Positions where the mask is off are filled with 0, not -1."""

import torch

CHECK = "ner/crf-decode-masked"
MESSAGE = "-1 where the mask is off"


def crf_decode(emissions, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    batch, steps, _ = emissions.shape
    score = start_transitions + emissions[:, 0]
    history = []
    for t in range(1, steps):
        best, index = (score.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1)).max(dim=1)
        score = torch.where(mask[:, t].unsqueeze(1), best, score)
        history.append(index)
    score = score + end_transitions
    out = torch.zeros((batch, steps), dtype=torch.int64)
    for b in range(batch):
        length = int(mask[b].sum())
        path = [int(score[b].argmax())]
        for index in reversed(history[: length - 1]):
            path.append(int(index[b, path[-1]]))
        out[b, :length] = torch.tensor(path[::-1])
    return out
