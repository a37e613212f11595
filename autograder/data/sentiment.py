"""Sentence sentiment (Homework 3's text classifier): rated movie-review sentences.

``text/movie_snippets_sentiment.tsv`` (Pang & Lee 2004 sentences, VADER ratings by Hutto &
Gilbert 2014): 10,605 sentences rated -4..+4. The 37 rated exactly 0 are dropped; the label is
the sign (0 negative, 1 positive). There is no official split: 1,000 sentences of each class are
held out, drawn with the split seed (from the course secret), the rest (8,568) are for training.
Text crosses into the sandbox as packed UTF-8 tokens (``wire/text.py``); held-out sentences
never do.
"""

from __future__ import annotations

import csv

import torch

from autograder.data.dataset import DataContext, Dataset, Splits, split_sha256
from autograder.data.text import corpus_file, seeded_order, tokenize
from autograder.errors import DataError
from autograder.wire.text import pack

FILE = "text/movie_snippets_sentiment.tsv"
SHA256 = "838630ed82514b9de98425a1e0367c559f8531849fc89aac3d1e6dbe0f6ce8dc"
HELD_OUT_PER_CLASS = 1000


def read(ctx: DataContext) -> tuple[list[list[str]], list[int], str]:
    """(token lists, labels 0/1, the file) of every sentence with a non-zero rating."""
    path = corpus_file(ctx, FILE, SHA256, "the sentiment sentences")
    sentences, labels = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        if header != ["id", "mean_rating", "text"]:
            raise DataError(f"{path}: unexpected header {header}")
        for row in rows:
            rating = float(row[1])
            if rating != 0:
                sentences.append(tokenize(row[2]))
                labels.append(int(rating > 0))
    return sentences, labels, str(path)


def _splits(ctx: DataContext) -> Splits:
    sentences, labels, source = read(ctx)
    label_tensor = torch.tensor(labels, dtype=torch.int64)
    held: list[int] = []
    for cls in (0, 1):
        members = (label_tensor == cls).nonzero().flatten()
        order = seeded_order(members.numel(), ctx.split_seed, "sentiment", cls)
        held += members[order[:HELD_OUT_PER_CLASS]].tolist()
    held.sort()
    chosen = set(held)
    train = [i for i in range(len(sentences)) if i not in chosen]
    return Splits(
        train={
            **pack([sentences[i] for i in train], "text."),
            "labels": label_tensor[train],
        },
        held_out={
            "labels": label_tensor[held],
            **pack([sentences[i] for i in held], "text."),
        },
        sha256=split_sha256(SHA256, ctx.split_seed),
        source=source,
        info={
            "classes": ["negative", "positive"],
            "train": len(train),
            "held_out": len(held),
            "tokenizer": "lower case; words and single punctuation marks",
        },
    )


DATASET = Dataset(
    name="sentiment",
    title="Movie-review sentences, positive vs negative (10,568; 2,000 held out)",
    load=_splits,
    citation=(
        'B. Pang and L. Lee, ACL 2004 (sentences); C.J. Hutto and E. Gilbert, "VADER", '
        "ICWSM 2014 (ratings; vaderSentiment 3.3.2, MIT licence)"
    ),
    provided_by=f"{FILE} under the data root (--data or AUTOGRADER_DATA)",
)
