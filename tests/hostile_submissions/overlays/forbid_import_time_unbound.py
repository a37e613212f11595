"""Import-time code that binds no name: a module-level print of a softmax computed by
torch.distributions. The call cannot be attributed to a definition, so every check of each task
that forbids it pays: losses (softmax) and every task that forbids torch.nn.functional.*."""

import torch

print(torch.distributions.Categorical(logits=torch.zeros(2), validate_args=False).probs)
