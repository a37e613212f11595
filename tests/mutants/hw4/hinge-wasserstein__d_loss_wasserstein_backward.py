# ruff: noqa: F821
"""d_loss_wasserstein detaches the real scores."""

CHECK = "hinge-wasserstein/d_loss_wasserstein-backward"
MESSAGE = "gradient of argument 0"


def d_loss_wasserstein(real_logits, fake_logits):
    return fake_logits.mean() - real_logits.detach().mean()
