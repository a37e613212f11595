"""An honest submission whose probe burns half a second of its own CPU time first: a stand-in
for a benchmark that trains, to see how a neighbour's load affects its budget."""

import time


def sigmoid(x):
    import torch

    start = time.process_time()
    while time.process_time() - start < 0.5:
        pass
    return 1 / (1 + torch.exp(-x))
