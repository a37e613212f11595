"""English-Spanish verse pairs (Homework 3's translation benchmark).

``text/bible_en_es.tsv.gz``: 31,077 verse-aligned pairs, the World English Bible and the
Reina-Valera 1909 (both public domain; extracted from Debian's sword-text-web and
sword-text-sparv). Both sides are lower-cased and tokenised (``data/text.py``), which also
undoes the drop-capital casing of some Spanish chapter openings. Pairs with 1-16 tokens on both
sides are kept. The split is by a seeded hash of the verse id (the split seed, from the course
secret): of the pairs with at most 15 tokens on both sides, the 300 verses with the smallest
hashes below 0.1 are held out; every other kept pair trains the grader's translator. The
grader's vocabularies (the 3,000 English and 1,500 Spanish words most frequent in training,
seen twice at least; ``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3) turn sources into ids; the held-out Spanish references stay as text, on the
trusted side only.
"""

from __future__ import annotations

import csv
import gzip

from autograder.data.dataset import DataContext, Dataset, Splits, split_sha256
from autograder.data.text import build_vocab, corpus_file, ids, padded, seeded_fraction, tokenize
from autograder.errors import DataError
from autograder.wire.text import pack

FILE = "text/bible_en_es.tsv.gz"
SHA256 = "7226786e218e866331a549e08d8389114702be99a2204171be4fbd69d308a3fd"
SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
MAX_TOKENS = 16
HELD_OUT_TOKENS = 15
HELD_OUT_FRACTION = 0.1
HELD_OUT = 300
# the most frequent words of each side (the rest are <unk>): a small output layer keeps the
# translator quick to train and a beam search over the whole vocabulary quick to run
SRC_WORDS = 3000
TGT_WORDS = 1500


def read(ctx: DataContext) -> tuple[list[tuple[str, list[str], list[str]]], str]:
    """(verse id, English tokens, Spanish tokens) of every pair, and the file."""
    path = corpus_file(ctx, FILE, SHA256, "the English-Spanish verse pairs")
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        if header != ["verse", "en", "es"]:
            raise DataError(f"{path}: unexpected header {header}")
        for row in rows:
            pairs.append((row[0], tokenize(row[1]), tokenize(row[2])))
    return pairs, str(path)


def _splits(ctx: DataContext) -> Splits:
    pairs, source = read(ctx)
    kept = [p for p in pairs if 0 < len(p[1]) <= MAX_TOKENS and 0 < len(p[2]) <= MAX_TOKENS]
    fraction = {verse: seeded_fraction(ctx.split_seed, verse) for verse, _, _ in kept}
    eligible = sorted(
        (fraction[v], v)
        for v, en, es in kept
        if len(en) <= HELD_OUT_TOKENS
        and len(es) <= HELD_OUT_TOKENS
        and fraction[v] < HELD_OUT_FRACTION
    )
    held_ids = {v for _, v in eligible[:HELD_OUT]}
    train = [p for p in kept if p[0] not in held_ids]
    held = [p for p in kept if p[0] in held_ids]
    src_vocab = build_vocab([p[1] for p in train], 2, SPECIALS, SRC_WORDS)
    tgt_vocab = build_vocab([p[2] for p in train], 2, SPECIALS, TGT_WORDS)
    src, src_len = padded([ids(p[1], src_vocab) for p in train])
    tgt, tgt_len = padded([ids(p[2], tgt_vocab) for p in train])
    held_src, held_len = padded([ids(p[1], src_vocab) for p in held])
    return Splits(
        train={"src": src, "src_len": src_len, "tgt": tgt, "tgt_len": tgt_len},
        # ``src`` first: its rows are the held-out sentences (what the engine counts)
        held_out={
            "src": held_src,
            "src_len": held_len,
            **pack([p[2] for p in held], "reference."),
            **pack([list(tgt_vocab)], "tgt_vocab."),
        },
        sha256=split_sha256(SHA256, ctx.split_seed),
        source=source,
        info={
            "src_vocab_size": len(src_vocab),
            "tgt_vocab_size": len(tgt_vocab),
            "specials": list(SPECIALS),
            "train": len(train),
            "held_out": len(held),
            "max_tokens": MAX_TOKENS,
        },
    )


DATASET = Dataset(
    name="bible_en_es",
    title="English-Spanish Bible verse pairs (WEB / Reina-Valera 1909; 300 held out)",
    load=_splits,
    citation=(
        "World English Bible (public domain) and Reina-Valera 1909 (public domain), from "
        "Debian's sword-text-web and sword-text-sparv, verse-aligned"
    ),
    provided_by=f"{FILE} under the data root (--data or AUTOGRADER_DATA)",
)
