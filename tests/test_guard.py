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
from autograder.untrusted.guard import ForbiddenAPIError, Guard, check_integrity
from autograder.wire import apis

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
    except Exception:  # noqa: BLE001 - e.g. TorchScript wraps our error in its own
        if not guard.violations:
            raise
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


# -- issue 13, class 2: routes the guard did not see ---------------------------------------------

# Each reaches torch's softmax by a route the torch-function names alone did not cover.
BEYOND_NAMES = {
    "aten packet": "import torch\ndef f(z):\n    return torch.ops.aten.softmax(z, -1)",
    "aten overload": "import torch\ndef f(z):\n    return torch.ops.aten._softmax.default(z, -1, False)",
    "aten log_softmax then exp": (
        "import torch\ndef f(z):\n    return torch.ops.aten._log_softmax.default(z, -1, False).exp()"
    ),
    "TensorBase": "import torch\ndef f(z):\n    return torch._C.TensorBase.softmax(z, -1)",
    "_special": "import torch\ndef f(z):\n    return torch._C._special.special_softmax(z, -1)",
    "foreach": "import torch\ndef f(z):\n    return torch._foreach_exp([z])[0] / 1",
    # compiled while guarded (compiled at import, the import's guard sees it: the worker's
    # guard is on then too); the compiled code's own ops run in C++, out of its sight
    "TorchScript from a string": (
        "import torch\n"
        "def f(z):\n"
        "    unit = torch.jit.CompilationUnit('def g(z):\\n    return torch.exp(z)\\n')\n"
        "    return unit.g(z)"
    ),
    "DisableTorchFunction": (
        "import torch\ndef f(z):\n    with torch._C.DisableTorchFunction():\n        return z.softmax(-1)"
    ),
    "a custom Function's backward": (
        "import torch\n"
        "class Fn(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, z):\n"
        "        ctx.save_for_backward(z)\n"
        "        return z * 1\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (z,) = ctx.saved_tensors\n"
        "        return g * z.softmax(-1)\n"
        "def f(z):\n"
        "    z = z.clone().requires_grad_(True)\n"
        "    Fn.apply(z).sum().backward()\n"
        "    return z.grad"
    ),
    "a Tensor subclass's __torch_function__": (
        "import torch\n"
        "class T(torch.Tensor):\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return torch.softmax(args[0].as_subclass(torch.Tensor), -1)\n"
        "def f(z):\n"
        "    return z.as_subclass(T).exp()"
    ),
    "a Tensor method in a thread": (
        "import threading\n"
        "def f(z):\n"
        "    out = []\n"
        "    def run():\n"
        "        try:\n"
        "            out.append(z.softmax(-1))\n"
        "        except BaseException as exc:  # the student hides the guard's error\n"
        "            out.append(exc)\n"
        "    t = threading.Thread(target=run)\n"
        "    t.start()\n"
        "    t.join()\n"
        "    return out"
    ),
    "torch.distributions": (
        "import torch\ndef f(z):\n    return torch.distributions.Categorical(logits=z).probs"
    ),
}


@pytest.mark.parametrize("route", sorted(BEYOND_NAMES))
def test_routes_beyond_torch_function_names_are_caught(route: str) -> None:
    module = _load(BEYOND_NAMES[route])
    guard = Guard(LOSSES_FORBID, source="student.py")
    caught = _caught(guard, module.f, torch.randn(3, 4))
    if route == "foreach":  # exp is allowed: no false positive through the foreach route
        assert not caught and guard.violations == []
    else:
        assert caught, route
    _assert_stacks_empty()


def _assert_stacks_empty() -> None:
    """The guard leaves no hook and no mode behind, whatever the student did."""
    import sys

    assert sys.getprofile() is None
    assert torch._C._len_torch_function_stack() == 0
    assert torch._C._len_torch_dispatch_stack() == 0


def test_compiling_is_caught_when_the_task_forbids_anything() -> None:
    module = _load(
        "import torch\ndef f(z):\n    return torch.jit.script(lambda_free)(z)\n"
        "def lambda_free(z: torch.Tensor) -> torch.Tensor:\n    return z * 2\n"
    )
    assert _caught(Guard(LOSSES_FORBID, source="student.py"), module.f, torch.randn(3))
    unit = _load(
        "import torch\ndef f(z):\n"
        "    return torch.jit.CompilationUnit('def g(z):\\n    return z * 2\\n').g(z)\n"
    )
    clean = Guard([], source="student.py")  # a task that forbids nothing may compile
    with clean:
        assert torch.equal(unit.f(torch.ones(2)), torch.full((2,), 2.0))
    assert clean.violations == []


# The guard switched off from student code: each is refused or found, and charged.
SWITCHED_OFF = {
    "sys.setprofile(None)": (
        "import sys\ndef f(z):\n    sys.setprofile(None)\n    return z",
        "sys.setprofile",
    ),
    "threading.setprofile": (
        "import threading\ndef f(z):\n    threading.setprofile(None)\n    return z",
        "threading.setprofile",
    ),
    "setprofile through a C function": (
        "import sys\ndef f(z):\n    list(map(sys.setprofile, [None]))\n    return z.exp()",
        apis.GUARD_HOOK_REMOVED,
    ),
    "pop the function mode": (
        "import torch\ndef f(z):\n    torch._C._pop_torch_function_stack()\n    return z",
        "torch._C._pop_torch_function_stack",
    ),
    "pop the function mode in a with": (
        "from torch.overrides import _pop_mode_temporarily\n"
        "def f(z):\n    with _pop_mode_temporarily():\n        return z * 1",
        "torch.overrides._pop_mode_temporarily",
    ),
    "pop the dispatch mode": (
        "import torch\ndef f(z):\n    torch._C._pop_torch_dispatch_stack(None)\n    return z",
        "torch._C._pop_torch_dispatch_stack",
    ),
    "DisableTorchFunction around honest code": (
        "import torch\ndef f(z):\n    with torch._C.DisableTorchFunction():\n        return z.exp()",
        "torch._C.DisableTorchFunction",
    ),
    "gc": ("import gc\ndef f(z):\n    gc.get_objects()\n    return z", "gc.get_objects"),
    "frames": ("import sys\ndef f(z):\n    sys._getframe(1)\n    return z", "sys._getframe"),
}


@pytest.mark.parametrize("route", sorted(SWITCHED_OFF))
def test_switching_the_guard_off_is_refused_or_found(route: str) -> None:
    source, name = SWITCHED_OFF[route]
    module = _load(source)
    guard = Guard(LOSSES_FORBID, source="student.py")
    try:
        with guard:
            module.f(torch.randn(3))
    except ForbiddenAPIError:
        pass
    assert name in guard.violations, (route, guard.violations)
    assert all(apis.is_tampering(v) for v in guard.violations), guard.violations
    _assert_stacks_empty()


def test_torch_and_the_standard_library_may_use_those_calls_themselves() -> None:
    """Only the student's own file is judged for them: collections.namedtuple reads a frame."""
    module = _load(
        "import collections\ndef f(z):\n"
        "    P = collections.namedtuple('P', 'a b')\n    return z * P(1, 2).a"
    )
    guard = Guard(LOSSES_FORBID, source="student.py")
    with guard:
        module.f(torch.randn(3))
    assert guard.violations == []


def test_patching_the_guard_is_found_and_undone() -> None:
    from autograder.untrusted import guard as guard_module

    original = Guard.__enter__
    Guard.__enter__ = lambda self: self  # what a student who reached the module would do
    guard_module.prepare = None
    try:
        changed = check_integrity()
    finally:
        Guard.__enter__ = original
    assert "Guard.__enter__" in changed and "prepare" in changed
    assert Guard.__enter__ is original and callable(guard_module.prepare)
    assert check_integrity() == []


def test_at_import_the_guard_records_each_call_with_its_line() -> None:
    source = (
        "import torch\n"
        "TABLE = torch.softmax(torch.zeros(3), 0)\n"
        "def helper():\n"
        "    return torch.log_softmax(torch.zeros(2), 0)\n"
        "print(helper())\n"
    )
    guard = Guard(LOSSES_FORBID, source="student.py", record_only=True)
    with guard:
        _load(source)  # nothing raises into module-level code
    names = {name: line for name, line in guard.import_calls}
    assert names["torch.softmax"] == 2
    assert names["torch.log_softmax"] == 5  # the module-level statement that made the call
    _assert_stacks_empty()
