"""More module-level forms: an annotated assignment, a walrus in an if test and a for loop's
target bind the aliases that sigmoid, tanh and relu call; leaky_relu and binary_step keep
their points."""

import torch

_sig: object = torch.sigmoid

if (_hyperbolic := torch.tanh) is None:
    pass

for _rectifier in (torch.relu,):
    pass


def sigmoid(x):
    return _sig(x)


def tanh(x):
    return _hyperbolic(x)


def relu(x):
    return _rectifier(x)
