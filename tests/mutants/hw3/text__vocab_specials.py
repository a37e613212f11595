# ruff: noqa: F821
"""A data token equal to a special gets a new id: the special's id is overwritten."""

from collections import Counter

CHECK = "text/vocab-specials"
MESSAGE = "expected"


def build_vocab(
    token_lists, min_freq=1, specials=("<pad>", "<unk>", "<bos>", "<eos>"), max_size=None
):
    counts = Counter(token for tokens in token_lists for token in tokens)
    vocab = {special: i for i, special in enumerate(specials)}
    ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
    if max_size is not None:
        ranked = ranked[:max_size]
    for token in ranked:
        vocab[token] = len(vocab)
    return vocab
