# ruff: noqa: F821
"""Returns the cumulative log-probability, not the length-normalised score it selected by."""

import math

import torch

CHECK = "decoding/beam"
MESSAGE = "length_penalty"


def beam_search(step, bos_id, eos_id, beam_size, max_len, length_penalty=0.0):
    live = [[]]  # generated tokens of each live hypothesis, in beam order
    live_scores = torch.zeros(1, dtype=torch.float64)
    finished = []  # (tokens, cumulative score), in the order they finished
    for _ in range(max_len):
        prefix = torch.tensor([[bos_id, *tokens] for tokens in live], dtype=torch.int64)
        total = live_scores.unsqueeze(1) + step(prefix).to(torch.float64)  # [hyps, V]
        # candidates in (token, hypothesis) order; a stable sort by score keeps that order
        # among equal scores: lower token id first, then the earlier hypothesis
        by_token = total.T.reshape(-1)
        order = torch.sort(by_token, descending=True, stable=True).indices[:beam_size]
        n = len(live)
        kept_tokens, kept_scores = [], []
        for index in order.tolist():
            token, hyp = divmod(index, n)
            tokens, score = live[hyp] + [token], by_token[index]
            if token == eos_id:
                finished.append((tokens, float(score)))
            else:
                kept_tokens.append(tokens)
                kept_scores.append(score)
        if not kept_tokens:
            break
        live, live_scores = kept_tokens, torch.stack(kept_scores)
    else:
        finished += [(tokens, float(s)) for tokens, s in zip(live, live_scores, strict=True)]
    best, best_value = None, -math.inf
    for tokens, score in finished:
        value = score / (len(tokens) ** length_penalty)
        if value > best_value:  # strictly better: the one finished first wins a tie
            best, best_value, best_score = tokens, value, score
    return torch.tensor(best, dtype=torch.int64), float(best_score)
