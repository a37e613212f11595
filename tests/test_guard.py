"""The worker's runtime guard (second line of defence): every way to call a forbidden op while
the guard is on is caught, and honest code is not slowed into a timeout or flagged.

Runs in this process: the guard is plain Python around the student's calls.
"""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

import pytest
import torch

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.untrusted.guard import ForbiddenAPIError, Guard

# Homework 1's own forbid lists: the guard is tested on what the course really forbids.
_HW1 = load_assignment("hw1", Course(Path(__file__).resolve().parents[1])).spec
LOSSES_FORBID = list(_HW1.task("losses").forbid)
OPTIM_FORBID = list(_HW1.task("optim").forbid)

# Each body computes a softmax of z through torch's own implementation.
SOFTMAX_ROUTES = {
    "torch function": "import torch\ndef f(z):\n    return torch.softmax(z, -1)",
    "Tensor method": "def f(z):\n    return z.softmax(-1)",
    "unbound Tensor method": "import torch\ndef f(z):\n    return torch.Tensor.softmax(z, -1)",
    "functional": "import torch.nn.functional as F\ndef f(z):\n    return F.softmax(z, dim=-1)",
    "nn.Softmax module": "from torch import nn\ndef f(z):\n    return nn.Softmax(dim=-1)(z)",
    "computed getattr": "import torch\ndef f(z):\n    return getattr(torch, 'soft' + 'max')(z, -1)",
    "vars lookup": "import torch\ndef f(z):\n    return vars(torch)['soft' + 'max'](z, -1)",
    "_VariableFunctions": "import torch\ndef f(z):\n    return torch._C._VariableFunctions.softmax(z, -1)",
    "torch.special": "import torch\ndef f(z):\n    return torch.special.softmax(z, -1)",
    "functools.partial": "import functools, torch\ndef f(z):\n    return functools.partial(torch.softmax, dim=-1)(z)",
    "map over a list": "import torch\ndef f(z):\n    return list(map(torch.softmax, [z], [-1]))[0]",
    "log_softmax then exp": "import torch\ndef f(z):\n    return torch.log_softmax(z, -1).exp()",
    "logsumexp": "import torch\ndef f(z):\n    return (z - torch.logsumexp(z, -1, keepdim=True)).exp()",
    "in a thread": (
        "import threading, torch\n"
        "def f(z):\n"
        "    out = []\n"
        "    def run():\n"
        "        try:\n"
        "            out.append(torch.softmax(z, -1))\n"
        "        except BaseException as exc:\n"
        "            out.append(exc)\n"
        "    t = threading.Thread(target=run)\n"
        "    t.start()\n"
        "    t.join()\n"
        "    if isinstance(out[0], BaseException):\n"
        "        raise out[0]\n"
        "    return out[0]"
    ),
}


def _load(source: str) -> types.ModuleType:
    module = types.ModuleType("student")
    exec(compile(textwrap.dedent(source), "student.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _caught(guard: Guard, fn, *args) -> bool:  # noqa: ANN001
    try:
        with guard:
            fn(*args)
    except ForbiddenAPIError:
        return True
    return bool(guard.violations)


@pytest.mark.parametrize("route", sorted(SOFTMAX_ROUTES))
def test_every_runtime_route_to_a_forbidden_op_is_caught(route: str) -> None:
    module = _load(SOFTMAX_ROUTES[route])
    assert _caught(Guard(LOSSES_FORBID), module.f, torch.randn(3, 4))


def test_honest_code_is_not_flagged_and_gives_the_same_result() -> None:
    module = _load(
        "import torch\n"
        "def f(z):\n"
        "    e = (z - z.max(-1, keepdim=True).values).exp()\n"
        "    return e / e.sum(-1, keepdim=True)"
    )
    z = torch.randn(3, 4)
    guard = Guard(LOSSES_FORBID)
    with guard:
        out = module.f(z)
    assert guard.violations == []
    assert torch.allclose(out, torch.softmax(z, -1))


OPTIMIZERS = {
    "torch.optim.Adam": "import torch\ndef make(p):\n    return torch.optim.Adam(p, lr=0.1)",
    "a subclass of SGD": (
        "import torch\nclass Mine(torch.optim.SGD):\n    pass\ndef make(p):\n    return Mine(p, lr=0.1)"
    ),
    "the functional adam": (
        "import torch\nfrom torch.optim import adam\n"
        "class Mine:\n"
        "    def __init__(self, p):\n        self.p = list(p)\n"
        "    def step(self):\n"
        "        for q in self.p:\n"
        "            adam.adam([q], [q.grad], [torch.zeros_like(q)], [torch.zeros_like(q)], [],"
        " [torch.tensor(1.0)], amsgrad=False, beta1=0.9, beta2=0.99, lr=0.1, weight_decay=0.0,"
        " eps=1e-8, maximize=False)\n"
        "def make(p):\n    return Mine(p)"
    ),
}


@pytest.mark.parametrize("route", sorted(OPTIMIZERS))
def test_torch_optimizers_are_caught_however_reached(route: str) -> None:
    module = _load(OPTIMIZERS[route])
    p = torch.nn.Parameter(torch.ones(3))

    def run() -> None:
        opt = module.make([p])
        p.grad = torch.ones(3)
        opt.step()

    assert _caught(Guard(OPTIM_FORBID), run)


def test_a_hand_written_optimizer_passes() -> None:
    module = _load(
        "import torch\n"
        "class Adam:\n"
        "    def __init__(self, params, lr=0.1):\n"
        "        self.p = list(params); self.m = [torch.zeros_like(q) for q in self.p]; self.lr = lr\n"
        "    @torch.no_grad()\n"
        "    def step(self):\n"
        "        for q, m in zip(self.p, self.m):\n"
        "            m.mul_(0.9).add_(q.grad, alpha=0.1)\n"
        "            q.sub_(self.lr * m / (m.abs().sqrt() + 1e-8))\n"
    )
    p = torch.nn.Parameter(torch.ones(3))
    guard = Guard(OPTIM_FORBID)
    with guard:
        opt = module.Adam([p])
        for _ in range(3):
            p.grad = torch.ones(3)
            opt.step()
    assert guard.violations == []
    assert not torch.equal(p.detach(), torch.ones(3))
