# ruff: noqa: F821
"""Adam without bias correction: uses m and v directly instead of m / (1 - b1^t), v / (1 - b2^t)."""

import torch

CHECK = "optim/adam"
MESSAGE = "lr=0.01: after step 1: parameters"


class Adam:
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["m"].mul_(b1).add_((1 - b1) * g)
                state["v"].mul_(b2).add_((1 - b2) * g * g)
                p.sub_(group["lr"] * state["m"] / (state["v"].sqrt() + group["eps"]))
