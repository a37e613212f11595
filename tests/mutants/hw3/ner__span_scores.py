# ruff: noqa: F821
"""A predicted span counts when its type and start match, whatever its end."""

CHECK = "ner/span-scores"
MESSAGE = "three sentences"


def span_scores(y_true, y_pred):
    true = {(i, *s[:2]) for i, tags in enumerate(y_true) for s in _entities(list(tags))}
    pred = {(i, *s[:2]) for i, tags in enumerate(y_pred) for s in _entities(list(tags))}
    correct = len(true & pred)
    precision = correct / len(pred) if pred else 0.0
    recall = correct / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
