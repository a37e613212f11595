"""Kills its own process with os._exit(1) while being imported."""

import os

os._exit(1)
