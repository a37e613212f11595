# ruff: noqa: F821
"""Adam stores each parameter's step size in its state on the first step and keeps using it:
per-group rates work, but a learning rate changed later (by a scheduler) is ignored."""

import torch

CHECK = "optim/adam"
MESSAGE = "lr changed between steps"


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
                    state["t"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                    state["lr"] = group["lr"]
                state["t"] += 1
                t = state["t"]
                state["m"].mul_(b1).add_((1 - b1) * g)
                state["v"].mul_(b2).add_((1 - b2) * g * g)
                m_hat = state["m"] / (1 - b1**t)
                v_hat = state["v"] / (1 - b2**t)
                p.sub_(state["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
