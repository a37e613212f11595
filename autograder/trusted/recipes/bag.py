"""Recipe ``bag`` (Homework 3), trusted half: held-out sentiment accuracy of the student's
trained bag-of-embeddings classifier.

The worker returned the trained embedding and linear layer and the student's vocabulary (typed
JSON). The vocabulary is validated (a dict of str to distinct ids covering the embedding's rows,
with ``<unk>``), the held-out sentences are mapped through it (unknown words to ``<unk>``), and
the grader's own arithmetic predicts: the mean of each sentence's embeddings
(``F.embedding_bag``), then the linear layer, then argmax. The held-out sentences never entered
the sandbox.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from autograder.trusted.metrics import accuracy
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire import text, values

MAX_VOCAB = 200_000


class BagParams(Params):
    min_freq: int = Field(default=2, ge=1, le=100)
    embed_dim: int = Field(default=64, ge=1, le=1024)
    epochs: int = Field(default=5, ge=1, le=100)
    batch_size: int = Field(default=64, ge=1, le=4096)
    lr: float = Field(default=0.01, gt=0)


def vocabulary(trained: Trained, rows: int) -> dict[str, int]:
    """The student's vocabulary from the worker's facts; ``ValueError`` saying what is wrong."""
    vocab = values.decode(trained.facts.get("vocab"))
    if not isinstance(vocab, dict) or len(vocab) > MAX_VOCAB:
        raise ValueError("the vocabulary is not a dict of at most 200,000 entries")
    if not all(isinstance(k, str) and type(v) is int for k, v in vocab.items()):
        raise ValueError("the vocabulary must map str to int")
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise ValueError("the vocabulary's ids are not 0, 1, ..., len(vocab) - 1")
    if len(vocab) != rows:
        raise ValueError(f"the vocabulary has {len(vocab)} entries, the embedding {rows} rows")
    if "<unk>" not in vocab:
        raise ValueError("the vocabulary has no '<unk>'")
    return vocab


@torch.no_grad()
def measure(trained: Trained) -> dict[str, float]:
    state = trained.state()
    embedding, weight, bias = state["embedding.weight"], state["fc.weight"], state["fc.bias"]
    if embedding.dim() != 2 or weight.shape != (2, embedding.shape[1]) or bias.shape != (2,):
        raise ValueError(
            f"expected embedding [V, E], fc.weight [2, E] and fc.bias [2], got "
            f"{tuple(embedding.shape)}, {tuple(weight.shape)} and {tuple(bias.shape)}"
        )
    vocab = vocabulary(trained, embedding.shape[0])
    unk = vocab["<unk>"]
    sentences = text.unpack(trained.held_out, "text.")
    ids = [vocab.get(token, unk) for sentence in sentences for token in sentence]
    offsets = torch.tensor([0, *[len(s) for s in sentences][:-1]]).cumsum(0)
    means = F.embedding_bag(
        torch.tensor(ids, dtype=torch.int64), embedding.float(), offsets, mode="mean"
    )
    predictions = (means @ weight.float().T + bias.float()).argmax(dim=1)
    value = accuracy(predictions, trained.held_out["labels"])
    return {"accuracy": float("nan") if value is None else value}


RECIPE = TrustedRecipe(
    name="bag", params=BagParams, produces=("accuracy",), measure=measure, same_state=False
)
