# ruff: noqa: F821
"""SGD takes the learning rate of the first parameter group for every group."""

import torch

CHECK = "optim/sgd"
MESSAGE = "two parameter groups"


class SGD:
    @torch.no_grad()
    def step(self):
        lr = self.param_groups[0]["lr"]
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
                p.sub_(lr * d)
