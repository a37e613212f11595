# ruff: noqa: F821
"""Adam reads the learning rate from self.defaults, not from each parameter group."""

import torch

CHECK = "optim/adam"
MESSAGE = "two parameter groups"


class Adam:
    @torch.no_grad()
    def step(self):
        lr = self.defaults["lr"]
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                state["m"].mul_(b1).add_((1 - b1) * g)
                state["v"].mul_(b2).add_((1 - b2) * g * g)
                m_hat = state["m"] / (1 - b1**t)
                v_hat = state["v"] / (1 - b2**t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + group["eps"]))
