"""Recipe ``crf_tagger`` (Homework 3): train the grader's tagger with the student's CRF.

The grader's ``Tagger`` (``wire/tagger.py``: embedding, BiLSTM, linear emissions, CRF
transitions as parameters) minimises ``-crf_log_likelihood(emissions, tags, mask, start,
end, transitions).mean()`` (the student's ``crf`` component) with torch's Adam over
minibatches in the secret-seeded order. Returns the trained state; the trusted side decodes
the held-out tweets with its own Viterbi and measures span F1.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_of,
    train_split,
)
from autograder.wire.tagger import STATE, Tagger


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    info = header["data_info"]
    tokens, lengths, tags = data["tokens"], data["lengths"], data["tags"]
    crf = component(module, header, "crf")
    net = Tagger(
        int(info["vocab_size"]), len(info["tags"]), int(params["embed"]), int(params["hidden"])
    )
    opt = torch.optim.Adam(net.parameters(), lr=float(params["lr"]))
    order = order_generator(header)
    batch = int(params["batch_size"])
    losses: list[float] = []
    for _epoch in range(int(params["epochs"])):
        running, count = 0.0, 0
        for idx in torch.randperm(tokens.shape[0], generator=order).split(batch):
            steps = int(lengths[idx].max())
            x, y = tokens[idx, :steps], tags[idx, :steps]
            mask = torch.arange(steps).unsqueeze(0) < lengths[idx].unsqueeze(1)
            emissions = net(x)
            with guard:
                llh = crf(
                    emissions, y, mask, net.start_transitions, net.end_transitions, net.transitions
                )
            if not isinstance(llh, torch.Tensor) or llh.shape != (idx.numel(),):
                raise ProbeError(
                    "error", f"{header['components']['crf']} must return a tensor [batch]"
                )
            loss = -llh.mean()
            opt.zero_grad()
            with guard:
                loss.backward()
            opt.step()
            running, count = running + float(loss.detach()), count + 1
            budget.check()
        losses.append(running / max(count, 1))
    outputs = state_of(net, list(STATE), "tagger")
    outputs["curve.loss"] = curve(losses)
    return outputs, budget.facts()
