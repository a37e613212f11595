"""Import-time code the source cannot show: torch.distributions computes a softmax while the
module is imported (Categorical(logits=...).probs), bound to _PRIOR, which only softmax uses.
The worker's guard is on during the import and reports the call with its line; the trusted side
charges it to _PRIOR's users: softmax's checks only."""

import torch


def softmax(z, dim=-1):
    assert _PRIOR.shape == (3,)
    shifted = z - z.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)


_PRIOR = torch.distributions.Categorical(logits=torch.zeros(3), validate_args=False).probs
