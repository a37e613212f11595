"""A helper calls torch.linalg.vector_norm; only clip_grad_norm_ uses it. Regularization also
forbids torch.linalg.*, but none of its symbols reach the helper, so only optim loses."""

import torch


def _total_norm(grads):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def clip_grad_norm_(parameters, max_norm):
    params = [p for p in parameters if p.grad is not None]
    total = _total_norm([p.grad.detach() for p in params])
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad.detach().mul_(scale)
    return total
