# ruff: noqa: F821
"""g_loss_hinge from fake_logits.data: right value, no gradient to the generator."""

CHECK = "hinge-wasserstein/g_loss_hinge-backward"
MESSAGE = "gradient of argument 0"


def g_loss_hinge(fake_logits):
    return -fake_logits.data.mean()
