# ruff: noqa: F821
"""Stops as soon as one row has produced EOS, not when every row has."""

import torch

CHECK = "decoding/greedy-batch"
MESSAGE = "batch of"


def greedy_decode(step, bos_id, eos_id, max_len, batch_size=1, pad_id=0):
    prefix = torch.full((batch_size, 1), bos_id, dtype=torch.int64)
    done = torch.zeros(batch_size, dtype=torch.bool)
    generated = []
    for _ in range(max_len):
        log_probs = step(prefix)
        token = log_probs.argmax(dim=-1)  # the first (lowest) id among equal maxima
        token = torch.where(done, torch.full_like(token, pad_id), token)
        generated.append(token)
        prefix = torch.cat([prefix, token.unsqueeze(1)], dim=1)
        done = done | (token == eos_id)
        if bool(done.any()):
            break
    return torch.stack(generated, dim=1)
