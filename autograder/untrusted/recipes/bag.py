"""Recipe ``bag`` (Homework 3): a sentiment classifier from the student's text pipeline.

The student's ``build_vocab`` (with ``min_freq``) turns the training sentences into a
vocabulary, ``encode`` turns each sentence into ids, ``pad_batch`` pads each minibatch and
``BagOfEmbeddings(len(vocab), embed_dim, 2, padding_idx=vocab["<pad>"])`` classifies it;
torch's Adam minimises torch's cross-entropy over minibatches in the secret-seeded order.
Returns the trained state and the vocabulary (typed JSON, ``wire/values.py``); the trusted
side maps the held-out sentences through that vocabulary and predicts with its own
embedding-mean and linear layer.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

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
from autograder.wire import text, values

STATE = ["embedding.weight", "fc.weight", "fc.bias"]


def _vocabulary(vocab: Any, name: str) -> dict[str, int]:
    if not isinstance(vocab, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in vocab.items()
    ):
        raise ProbeError("error", f"{name} must return a dict of str to int")
    for special in ("<pad>", "<unk>"):
        if special not in vocab:
            raise ProbeError("error", f"the vocabulary {name} built has no {special!r}")
    return vocab


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    names = header["components"]
    budget = Budget(header)
    data = train_split(header, tensors)
    sentences = text.unpack(data, "text.")
    labels = data["labels"]
    build_vocab, encode = component(module, header, "vocab"), component(module, header, "encode")
    pad_batch, model_class = component(module, header, "pad"), component(module, header, "model")
    with guard:
        vocab = build_vocab(sentences, min_freq=int(params["min_freq"]))
    vocab = _vocabulary(vocab, names["vocab"])
    with guard:
        ids = [encode(sentence, vocab) for sentence in sentences]
    if not all(isinstance(t, torch.Tensor) and t.dim() == 1 for t in ids):
        raise ProbeError("error", f"{names['encode']} must return a 1-D tensor of ids")
    pad = vocab["<pad>"]
    with guard:
        model = model_class(len(vocab), int(params["embed_dim"]), 2, padding_idx=pad)
        opt = torch.optim.Adam(model.parameters(), lr=float(params["lr"]))
    order = order_generator(header)
    batch = int(params["batch_size"])
    losses: list[float] = []
    for _epoch in range(int(params["epochs"])):
        model.train()
        running, count = 0.0, 0
        for idx in torch.randperm(len(ids), generator=order).split(batch):
            chosen = idx.tolist()
            with guard:
                padded, lengths = pad_batch([ids[i] for i in chosen], padding_value=pad)
                logits = model(padded, lengths)
                loss = F.cross_entropy(logits, labels[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            running, count = running + float(loss.detach()), count + 1
            budget.check()
        losses.append(running / max(count, 1))
    outputs = state_of(model, STATE, "classifier")
    outputs["curve.loss"] = curve(losses)
    try:
        tree, _ = values.encode(vocab, "vocab")
    except ValueError as exc:
        raise ProbeError("error", f"the vocabulary cannot be sent back: {exc}") from None
    return outputs, {**budget.facts(), "vocab": tree}
