# ruff: noqa: F821
"""Counter.most_common order: ties keep the order of first appearance, not the string order."""

from collections import Counter

CHECK = "text/vocab-order"
MESSAGE = "expected"


def build_vocab(
    token_lists, min_freq=1, specials=("<pad>", "<unk>", "<bos>", "<eos>"), max_size=None
):
    counts = Counter(token for tokens in token_lists for token in tokens)
    vocab = {}
    for special in specials:
        vocab.setdefault(special, len(vocab))
    ranked = [t for t, c in counts.most_common() if c >= min_freq and t not in vocab]
    if max_size is not None:
        ranked = ranked[:max_size]
    for token in ranked:
        vocab[token] = len(vocab)
    return vocab
