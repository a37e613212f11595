# ruff: noqa: F821
"""Strict IOB2: an I- tag that does not continue an entity of its type is dropped."""

CHECK = "ner/spans-loose-i"
MESSAGE = "I-"


def bio_to_spans(tags):
    spans = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        if kind is not None and (prefix != "I" or label != kind):
            spans.append((kind, start, i - 1))
            kind = None
        if prefix == "B":
            kind, start = label, i
    return spans
