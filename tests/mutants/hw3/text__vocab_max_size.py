# ruff: noqa: F821
"""max_size read as the size of the whole vocabulary, specials included."""

from collections import Counter

CHECK = "text/vocab-max-size"
MESSAGE = "has no key"


def build_vocab(
    token_lists, min_freq=1, specials=("<pad>", "<unk>", "<bos>", "<eos>"), max_size=None
):
    counts = Counter(token for tokens in token_lists for token in tokens)
    vocab = {}
    for special in specials:
        vocab.setdefault(special, len(vocab))
    ranked = sorted(
        (t for t, c in counts.items() if c >= min_freq and t not in vocab),
        key=lambda t: (-counts[t], t),
    )
    if max_size is not None:
        ranked = ranked[: max(max_size - len(vocab), 0)]
    for token in ranked:
        vocab[token] = len(vocab)
    return vocab
