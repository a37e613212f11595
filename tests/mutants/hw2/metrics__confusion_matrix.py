"""confusion_matrix with rows and columns swapped: rows are the predicted class."""

# ruff: noqa: F821
CHECK = "metrics/confusion_matrix"
MESSAGE = "differs at index"


def confusion_matrix(pred, target, num_classes, ignore_index=None):
    p, t = _valid(pred, target, ignore_index)
    index = p.long() * num_classes + t.long()
    counts = torch.bincount(index, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)
