# ruff: noqa: F821
"""Averages over every position, padding included, instead of each sentence's length."""

CHECK = "text/bag-forward"
MESSAGE = "values differ"


class BagOfEmbeddings:
    def forward(self, tokens, lengths):
        return self.fc(self.embedding(tokens).mean(dim=1))
