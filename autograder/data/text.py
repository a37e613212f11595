"""What the text corpora of Homework 3 share: finding a verified file, tokenising, seeded picks.

A corpus file is looked for where the cat-vs-dog data is: under ``--data`` or
``AUTOGRADER_DATA`` when one is set, then in the cache (a verified copy kept from an earlier
load, ``$AUTOGRADER_CACHE/data/text``), then, when neither option nor variable is set, under
``../shared/data``. Every file is checked against the sha256 its loader knows; a file that
differs is an error, never silently used.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import torch

from autograder.data.dataset import DataContext, data_file
from autograder.data.locations import default_cache_dir, explicit_root
from autograder.errors import DataError
from autograder.hashing import sha256_file

# Lower-cased words (letters and digits, accents included) and single punctuation marks.
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """``"Isn't it?"`` -> ``["isn", "'", "t", "it", "?"]``: lower case, words and punctuation."""
    return _TOKEN.findall(text.lower())


def _cached(ctx: DataContext, relative: str, sha256: str) -> Path:
    return default_cache_dir(ctx.cache_dir) / "text" / f"{sha256[:16]}-{Path(relative).name}"


def _keep(path: Path, cached: Path) -> None:
    """Copy a verified file into the cache (atomically), so later loads need no data root."""
    if cached.is_file():
        return
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(cached)
    except OSError:
        pass  # a read-only cache only costs the next load a data root


def corpus_file(ctx: DataContext, relative: str, sha256: str, what: str) -> Path:
    """The verified file ``relative`` (e.g. ``text/wnut16_twitter_ner_train.txt``).

    Raises ``DataError`` naming every place looked at, or the file whose content differs."""
    cached = _cached(ctx, relative, sha256)
    named = explicit_root(ctx.root)
    places = []
    if named is not None:
        try:
            places.append(data_file(ctx, relative, what))
        except DataError:
            pass
    places.append(cached)
    if named is None:
        try:
            places.append(data_file(ctx, relative, what))
        except DataError:
            pass
    for path in places:
        if not path.is_file():
            continue
        found = sha256_file(path)
        if found == sha256:
            if path != cached:
                _keep(path, cached)
            return path
        if path == cached:
            cached.unlink(missing_ok=True)  # a damaged copy: forget it, look further
            continue
        raise DataError(
            f"{what}: {path} has sha256 {found}, expected {sha256} (a different or damaged "
            "file; get it again from the course's data folder)"
        )
    setting = named[0] if named is not None else "the default ../shared/data"
    root = named[1] if named is not None else Path("../shared/data")
    raise DataError(
        f"{what} not found: looked for {root / relative} ({setting}) and {cached} (the cache); "
        f"pass --data DIR or set AUTOGRADER_DATA to a folder holding {relative}"
    )


def seeded_order(n: int, seed: int, *parts: object) -> torch.Tensor:
    """A permutation of ``range(n)`` drawn from ``seed`` (the split seed) and ``parts``."""
    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    g = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & ((1 << 63) - 1))
    return torch.randperm(n, generator=g)


def seeded_fraction(seed: int, key: str) -> float:
    """A number in [0, 1) from ``seed`` and ``key`` (a verse id): which side of a split it is."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


def build_vocab(
    token_lists: list[list[str]], min_freq: int, specials: tuple[str, ...], max_size: int = 0
) -> dict:
    """The grader's own vocabulary: specials first, then tokens seen ``min_freq`` times or more,
    most frequent first, ties by the token's string (at most ``max_size`` of them, if set)."""
    counts: dict[str, int] = {}
    for tokens in token_lists:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    vocab = {s: i for i, s in enumerate(specials)}
    for token, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if max_size and len(vocab) >= len(specials) + max_size:
            break
        if count >= min_freq and token not in vocab:
            vocab[token] = len(vocab)
    return vocab


def ids(tokens: list[str], vocab: dict[str, int], unk: str = "<unk>") -> list[int]:
    fallback = vocab[unk]
    return [vocab.get(t, fallback) for t in tokens]


def padded(sequences: list[list[int]], pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(int64 [N, T_max] padded with ``pad``, int64 lengths [N])."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    out = torch.full((len(sequences), int(lengths.max()) if len(sequences) else 0), pad)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.int64)
    return out, lengths
