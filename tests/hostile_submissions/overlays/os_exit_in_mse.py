"""mse_loss calls os._exit(0): the worker vanishes, cleanly, in the middle of the losses task."""

import os


def mse_loss(pred, target):
    os._exit(0)
