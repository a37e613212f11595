"""After the honest definitions, import-time code rebinds softmax through globals().update: a
statement that binds no name the scan can see, so it is charged to every check of every task
that forbids what it uses (all of losses)."""

import torch

globals().update(softmax=lambda z, dim=-1: torch.softmax(z, dim))
