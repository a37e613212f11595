# ruff: noqa: F821
"""B- right after an entity of the same type continues it instead of starting a new one."""

CHECK = "ner/spans"
MESSAGE = "adjacent entities"


def bio_to_spans(tags):
    spans = []
    kind, start = None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        begins = prefix in ("B", "I") and label != kind
        if kind is not None and (prefix == "O" or begins):
            spans.append((kind, start, i - 1))
            kind = None
        if prefix != "O" and (begins or kind is None):
            kind, start = label, i
    return spans
