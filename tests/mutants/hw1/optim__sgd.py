# ruff: noqa: F821
"""SGD ignores weight_decay."""

import torch

CHECK = "optim/sgd"
MESSAGE = "lr=0.1, momentum=0.5, weight_decay=0.01: after step 1"


class SGD:
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if group["momentum"]:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = d.clone()
                    else:
                        state["buf"].mul_(group["momentum"]).add_(d)
                    d = state["buf"]
                p.sub_(group["lr"] * d)
