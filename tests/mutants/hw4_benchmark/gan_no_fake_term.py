# ruff: noqa: F821
"""d_loss_bce forgets BCE(fake, 0): the discriminator only learns to call everything real."""


def d_loss_bce(real_logits, fake_logits):
    return _softplus(-real_logits).mean() + 0.0 * fake_logits.mean()
