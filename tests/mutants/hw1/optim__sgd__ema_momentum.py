# ruff: noqa: F821
"""SGD keeps momentum as an exponential moving average, buf = m * buf + (1 - m) * g (Adam's habit),
instead of torch's buf = m * buf + g."""

import torch

CHECK = "optim/sgd"
MESSAGE = "lr=0.05, momentum=0.9: after step 2"


class SGD:
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad + group["weight_decay"] * p
                m = group["momentum"]
                if m:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = d.clone()
                    else:
                        state["buf"].mul_(m).add_((1 - m) * d)
                    d = state["buf"]
                p.sub_(group["lr"] * d)
