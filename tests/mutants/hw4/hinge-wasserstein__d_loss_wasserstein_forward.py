# ruff: noqa: F821
"""d_loss_wasserstein returns shape [1] instead of a 0-d tensor."""

CHECK = "hinge-wasserstein/d_loss_wasserstein-forward"
MESSAGE = "wrong shape"


def d_loss_wasserstein(real_logits, fake_logits):
    return (fake_logits.mean() - real_logits.mean()).reshape(1)
