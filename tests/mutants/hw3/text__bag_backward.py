# ruff: noqa: F821
"""The embedding ignores padding_idx: the padding row is trained like any other."""

from torch import nn

CHECK = "text/bag-backward"
MESSAGE = "gradient of embedding.weight"


class BagOfEmbeddings:
    def __init__(self, vocab_size, embed_dim, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.fc = nn.Linear(embed_dim, num_classes)
