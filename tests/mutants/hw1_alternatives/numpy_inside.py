# ruff: noqa: F821
"""Correct, in another style: numpy wherever no gradient has to flow. binary_step, the
initialisers (numpy's own random generator, seeded from torch's), dropout's mask, batch norm's
running statistics, both optimizers' updates and gradient clipping are computed in numpy."""

import math

import numpy as np
import torch


def _rng():
    # numpy's generator, seeded from torch's stream so torch.manual_seed still governs it
    return np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,)).item()))


def _np_dtype(t):
    return np.float64 if t.dtype == torch.float64 else np.float32


def binary_step(x):
    values = np.where(x.detach().numpy() >= 0, 1.0, 0.0).astype(_np_dtype(x))
    return torch.from_numpy(values)


def _fill(tensor, values):
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.asarray(values, dtype=_np_dtype(tensor))))
    return tensor


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _rng().uniform(-bound, bound, size=tuple(tensor.shape)))


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng().normal(0.0, std, size=tuple(tensor.shape)))


def kaiming_normal_(tensor, a=0, nonlinearity="relu"):
    fan_in, _ = _fans(tensor)
    std = _gain(nonlinearity, a) / math.sqrt(fan_in)
    return _fill(tensor, _rng().normal(0.0, std, size=tuple(tensor.shape)))


class Dropout:
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (_rng().random(tuple(x.shape)) >= self.p).astype(_np_dtype(x))
        return x * torch.from_numpy(keep) / (1 - self.p)


class BatchNorm1d:
    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) / torch.sqrt(
                self.running_var + self.eps
            ) * self.weight + self.bias
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        data = x.detach().numpy().astype(np.float64)
        m = self.momentum
        rm = self.running_mean.numpy() * (1 - m) + m * data.mean(0)
        rv = self.running_var.numpy() * (1 - m) + m * data.var(0, ddof=1)
        with torch.no_grad():
            self.running_mean.copy_(torch.from_numpy(rm))
            self.running_var.copy_(torch.from_numpy(rv))
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class SGD:
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                w, g = p.numpy(), p.grad.numpy()
                d = g + group["weight_decay"] * w
                if group["momentum"]:
                    state = self.state[p]
                    buf = state.get("buf")
                    d = d.copy() if buf is None else group["momentum"] * buf + d
                    state["buf"] = d
                p.copy_(torch.from_numpy(w - group["lr"] * d))


class Adam:
    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                w = p.numpy()
                g = p.grad.numpy() + group["weight_decay"] * w
                state = self.state[p]
                t = state.get("t", 0) + 1
                m = b1 * state.get("m", np.zeros_like(w)) + (1 - b1) * g
                v = b2 * state.get("v", np.zeros_like(w)) + (1 - b2) * g * g
                state.update(t=t, m=m, v=v)
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.copy_(torch.from_numpy(w - group["lr"] * m_hat / (np.sqrt(v_hat) + group["eps"])))


def clip_grad_norm_(parameters, max_norm):
    params = [p for p in parameters if p.grad is not None]
    total = math.sqrt(
        sum(float(np.sum(p.grad.detach().numpy().astype(np.float64) ** 2)) for p in params)
    )
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in params:
            p.grad.detach().mul_(scale)
    dtype = params[0].grad.dtype if params else torch.float32
    return torch.tensor(total, dtype=dtype)
