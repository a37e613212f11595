"""global_prune_ prunes each layer by the amount on its own, not all weights together."""

# ruff: noqa: F821
CHECK = "pruning/global_prune"
MESSAGE = "after the call"


def global_prune_(model, amount):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            prune_l1_unstructured_(m.weight, amount)
