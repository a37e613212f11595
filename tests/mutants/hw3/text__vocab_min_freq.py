# ruff: noqa: F821
"""min_freq counts the sentences a token appears in, not its occurrences."""

from collections import Counter

CHECK = "text/vocab-min-freq"
MESSAGE = "has no key"


def build_vocab(
    token_lists, min_freq=1, specials=("<pad>", "<unk>", "<bos>", "<eos>"), max_size=None
):
    counts = Counter(token for tokens in token_lists for token in tokens)
    documents = Counter(token for tokens in token_lists for token in set(tokens))
    vocab = {}
    for special in specials:
        vocab.setdefault(special, len(vocab))
    ranked = sorted(
        (t for t in counts if documents[t] >= min_freq and t not in vocab),
        key=lambda t: (-counts[t], t),
    )
    if max_size is not None:
        ranked = ranked[:max_size]
    for token in ranked:
        vocab[token] = len(vocab)
    return vocab
