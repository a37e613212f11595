# ruff: noqa: F821
"""SGD keeps the constructor's learning rate and never reads param_groups: per-group rates and
schedulers have no effect."""

import torch

CHECK = "optim/sgd"
MESSAGE = "two parameter groups"


class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr = lr

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad + group["weight_decay"] * p
                if group["momentum"]:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = d.clone()
                    else:
                        state["buf"].mul_(group["momentum"]).add_(d)
                    d = state["buf"]
                p.sub_(self.lr * d)
