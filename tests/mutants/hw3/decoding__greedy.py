# ruff: noqa: F821
"""Argmax ties go to the highest id (the last maximum), not the lowest."""

import torch

CHECK = "decoding/greedy"
MESSAGE = "argmax ties"


def greedy_decode(step, bos_id, eos_id, max_len, batch_size=1, pad_id=0):
    prefix = torch.full((batch_size, 1), bos_id, dtype=torch.int64)
    done = torch.zeros(batch_size, dtype=torch.bool)
    generated = []
    for _ in range(max_len):
        log_probs = step(prefix)
        flipped = log_probs.flip(-1).argmax(dim=-1)
        token = log_probs.shape[-1] - 1 - flipped
        token = torch.where(done, torch.full_like(token, pad_id), token)
        generated.append(token)
        prefix = torch.cat([prefix, token.unsqueeze(1)], dim=1)
        done = done | (token == eos_id)
        if bool(done.all()):
            break
    return torch.stack(generated, dim=1)
