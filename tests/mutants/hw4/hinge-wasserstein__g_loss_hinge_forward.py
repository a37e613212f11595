# ruff: noqa: F821
"""g_loss_hinge returns shape [1] instead of a 0-d tensor."""

CHECK = "hinge-wasserstein/g_loss_hinge-forward"
MESSAGE = "wrong shape"


def g_loss_hinge(fake_logits):
    return -fake_logits.reshape(-1).mean(0, keepdim=True)
