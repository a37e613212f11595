# ruff: noqa: F821
"""d_loss_bce detaches the fake logits ("the generator must not learn from the discriminator's
loss"): the discriminator then never learns from fakes."""

CHECK = "gan-losses/d_loss_bce-backward"
MESSAGE = "gradient of argument 1"


def d_loss_bce(real_logits, fake_logits):
    return _softplus(-real_logits).mean() + _softplus(fake_logits.detach()).mean()
