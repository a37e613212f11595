"""The trusted side's forbidden-API scan (``forbidden.scan``/``forbidden_uses``) and ``apis``.

Pure AST work on source text: nothing is imported or run. Every route to a forbidden operation
is found, attributed to the definitions that reach it, and costs only tasks whose symbols do.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted.forbidden import forbidden_uses, scan
from autograder.wire import apis

REPO = Path(__file__).resolve().parents[1]
LOSSES_FORBID = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "torch.nn.functional.*",
]


def uses(source: str, symbols: list[str], forbid: list[str]) -> list[str]:
    closure = scan(textwrap.dedent(source))
    assert closure is not None
    return [f.name for f in forbidden_uses(closure, symbols, forbid)]


# How a student might reach torch.softmax; each must be found in `softmax`.
ROUTES = {
    "torch function": (
        "import torch\ndef softmax(z, dim=-1):\n    return torch.softmax(z, dim)",
        "torch.softmax",
    ),
    "torch alias": (
        "import torch as T\ndef softmax(z, dim=-1):\n    return T.softmax(z, dim)",
        "torch.softmax",
    ),
    "Tensor method": ("def softmax(z, dim=-1):\n    return z.softmax(dim)", "torch.Tensor.softmax"),
    "method on an expression": (
        "def softmax(z, dim=-1):\n    return (z * 1).softmax(dim)",
        "torch.Tensor.softmax",
    ),
    "functional as F": (
        "import torch.nn.functional as F\ndef softmax(z, dim=-1):\n    return F.softmax(z, dim=dim)",
        "torch.nn.functional.softmax",
    ),
    "from torch.nn import functional": (
        "from torch.nn import functional as G\ndef softmax(z, dim=-1):\n    return G.softmax(z, dim=dim)",
        "torch.nn.functional.softmax",
    ),
    "full dotted path": (
        "import torch.nn.functional\ndef softmax(z, dim=-1):\n    return torch.nn.functional.softmax(z, dim)",
        "torch.nn.functional.softmax",
    ),
    "nn.Softmax module": (
        "from torch import nn\ndef softmax(z, dim=-1):\n    return nn.Softmax(dim=dim)(z)",
        "torch.nn.Softmax",
    ),
    "import under another name": (
        "from torch import softmax as s\ndef softmax(z, dim=-1):\n    return s(z, dim)",
        "torch.softmax",
    ),
    "module-level alias": (
        "import torch\nsm = torch.softmax\ndef softmax(z, dim=-1):\n    return sm(z, dim)",
        "torch.softmax",
    ),
    "alias inside the function": (
        "import torch\ndef softmax(z, dim=-1):\n    f = torch.softmax\n    return f(z, dim)",
        "torch.softmax",
    ),
    "import inside the function": (
        "def softmax(z, dim=-1):\n    import torch.nn.functional as Q\n    return Q.softmax(z, dim)",
        "torch.nn.functional.softmax",
    ),
    "lambda": ("import torch\nsoftmax = lambda z, dim=-1: torch.softmax(z, dim)", "torch.softmax"),
    "getattr with a constant": (
        "import torch\ndef softmax(z, dim=-1):\n    return getattr(torch, 'softmax')(z, dim)",
        "torch.softmax",
    ),
    "getattr with a computed name": (
        "import torch\ndef softmax(z, dim=-1):\n    return getattr(torch, 'soft' + 'max')(z, dim)",
        "getattr(torch, <computed name>)",
    ),
    "getattr on the functional module": (
        "import torch.nn.functional as F\ndef softmax(z, dim=-1):\n    return getattr(F, 'soft' + 'max')(z, dim)",
        "getattr(torch.nn.functional, <computed name>)",
    ),
    "eval": (
        "import torch\ndef softmax(z, dim=-1):\n    return eval('torch.soft' + 'max')(z, dim)",
        "eval",
    ),
    "exec": ("def softmax(z, dim=-1):\n    exec('import torch')\n    return z", "exec"),
    "__import__": (
        "def softmax(z, dim=-1):\n    return __import__('torch').softmax(z, dim)",
        "__import__",
    ),
    "importlib": (
        "import importlib\ndef softmax(z, dim=-1):\n    return importlib.import_module('torch')",
        "importlib.import_module",
    ),
    "star import": (
        "from torch import *\ndef softmax(z, dim=-1):\n    return log_softmax(z, dim).exp()",
        "torch.log_softmax",
    ),
    "torch.special": (
        "import torch\ndef softmax(z, dim=-1):\n    return torch.special.softmax(z, dim)",
        "torch.special.softmax",
    ),
    # a recursive AST visitor dies on a few hundred nested operators; the scan must not
    "deeply nested expression": (
        "import torch\ndef softmax(z, dim=-1):\n    return torch.softmax(z, dim)" + " + 0" * 800,
        "torch.softmax",
    ),
    "fused logsumexp": (
        "import torch\ndef softmax(z, dim=-1):\n    return (z - torch.logsumexp(z, dim, keepdim=True)).exp()",
        "torch.logsumexp",
    ),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_to_a_forbidden_op_is_found(route: str) -> None:
    source, expected = ROUTES[route]
    assert expected in uses(source, ["softmax"], LOSSES_FORBID)


# Dictionary lookups on torch hide the name as well as getattr does.
STATIC_GAPS = {
    "vars(torch)[computed]": "import torch\ndef softmax(z, dim=-1):\n    return vars(torch)['soft' + 'max'](z, dim)",
    "torch.__dict__[computed]": "import torch\ndef softmax(z, dim=-1):\n    return torch.__dict__['soft' + 'max'](z, dim)",
}


@pytest.mark.parametrize("route", sorted(STATIC_GAPS))
def test_dictionary_lookups_on_torch_are_found(route: str) -> None:
    assert uses(STATIC_GAPS[route], ["softmax"], LOSSES_FORBID)


def test_allowed_code_is_not_flagged() -> None:
    source = """
    import math
    import numpy as np
    import torch

    def tanh(x):
        return torch.tensor(math.tanh(0.5)) + np.tanh(0.0) + torch.exp(x)

    def softmax(z, dim=-1):
        e = torch.exp(z - z.amax(dim=dim, keepdim=True))
        return e / e.sum(dim=dim, keepdim=True)

    def log_softmax(z, dim=-1):
        return torch.log(softmax(z, dim))
    """
    assert uses(source, ["softmax", "log_softmax"], LOSSES_FORBID) == []
    assert uses(source, ["tanh"], ["tanh", "sigmoid"]) == []


def test_a_helper_costs_only_the_symbols_that_reach_it() -> None:
    source = """
    import torch

    def _deep(g):
        return torch.linalg.vector_norm(g)

    def _total(grads):
        return sum(_deep(g) for g in grads)

    def clip_grad_norm_(parameters, max_norm):
        return _total([p.grad for p in parameters])

    class SGD(torch.optim.Optimizer):
        def step(self):
            return None

    def l2_penalty(parameters):
        return sum((p * p).sum() for p in parameters)
    """
    closure = scan(textwrap.dedent(source))
    found = forbidden_uses(closure, ["SGD", "clip_grad_norm_"], ["torch.linalg.*"])
    assert [(f.name, f.line, f.owner) for f in found] == [("torch.linalg.vector_norm", 5, "_deep")]
    assert "torch.linalg.vector_norm (line 5)" in found[0].describe()
    assert forbidden_uses(closure, ["l2_penalty"], ["torch.linalg.*"]) == []
    assert forbidden_uses(closure, ["clip_grad_norm_"], []) == []


def test_init_alias_and_optimizer_subclass() -> None:
    source = """
    import torch
    from torch.nn.init import xavier_uniform_ as _xu

    def xavier_uniform_(tensor, gain=1.0):
        return _xu(tensor, gain=gain)

    class Adam(torch.optim.Adam):
        pass
    """
    assert uses(source, ["xavier_uniform_"], ["torch.nn.init.*"]) == [
        "torch.nn.init.xavier_uniform_"
    ]
    assert uses(source, ["Adam"], ["torch.optim.Adam", "torch.optim.adam.*"]) == [
        "torch.optim.Adam"
    ]
    assert uses(source, ["Adam"], ["torch.nn.init.*"]) == []


def test_scan_of_unparsable_source_is_none() -> None:
    assert scan("def f(x)\n    return x\n") is None
    assert scan("") == {}


def test_the_reference_solution_uses_nothing_its_tasks_forbid() -> None:
    spec = load_assignment("hw1", Course(REPO)).spec
    closure = scan((REPO / "reference_solutions" / "hw1.py").read_text())
    for task in spec.tasks:
        assert forbidden_uses(closure, [s.name for s in task.symbols], task.forbid) == [], task.id


def test_the_example_submission_is_clean_too() -> None:
    spec = load_assignment("hw1", Course(REPO)).spec
    closure = scan((REPO / "examples" / "hw1_student.py").read_text())
    for task in spec.tasks:
        assert forbidden_uses(closure, [s.name for s in task.symbols], task.forbid) == [], task.id


def test_expand_an_op_family_covers_function_method_functional_and_module() -> None:
    names = apis.expand("softmax")
    assert {
        "torch.softmax",
        "torch.Tensor.softmax",
        "torch.nn.functional.softmax",
        "torch.special.softmax",
        "torch.nn.Softmax",
        "torch._softmax",
        "torch._C._VariableFunctions.softmax",
    } <= names
    assert {"torch.relu", "torch.relu_", "torch.Tensor.relu_", "torch.nn.ReLU"} <= apis.expand(
        "relu"
    )
    assert "torch.special.expit" in apis.expand("sigmoid")
    assert not any("log_softmax" in n for n in names)  # a separate family


def test_expand_qualified_names_and_prefixes() -> None:
    assert apis.expand("torch.nn.init.*") == {"torch.nn.init.*"}
    assert apis.expand(" torch.clamp ") == {"torch.clamp"}
    assert apis.expand("torch.nn.functional.gelu") == {
        "torch.nn.functional.gelu",
        "torch.Tensor.gelu",
        "torch._C._nn.gelu",
    }
    assert apis.expand_all(["relu", "torch.clamp"]) == apis.expand("relu") | {"torch.clamp"}


def test_matches_and_display() -> None:
    forbidden = apis.expand_all(["torch.nn.init.*", "softmax"])
    assert apis.matches("torch.nn.init.kaiming_normal_", forbidden) == "torch.nn.init.*"
    assert apis.matches("torch.softmax", forbidden) == "torch.softmax"
    assert apis.matches("torch.nn.initx", forbidden) is None
    assert apis.matches("torch.exp", forbidden) is None
    assert apis.display("torch._C._VariableFunctions.sigmoid") == "torch.sigmoid"
    assert apis.display("torch._C._nn.gelu") == "F.gelu"
