# ruff: noqa: F821
"""g_loss_nonsaturating returns -BCE(fake, 1): the generator is pushed away from what the
discriminator calls real."""


def g_loss_nonsaturating(fake_logits):
    return -_softplus(-fake_logits).mean()
