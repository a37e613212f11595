"""Forbidden-API names: how one spec entry expands into every route to the same operation.

A spec's ``forbid`` list holds either an op family (``"softmax"``, no dots) or a qualified name
(``"torch.nn.init.xavier_uniform_"``, or a prefix ending in ``.*``). A family expands to the
torch function, the Tensor method, the functional, the special-namespace alias and the nn.Module
class, so forbidding ``softmax`` also forbids ``x.softmax(-1)`` and ``nn.Softmax``.

Pure data and string functions: both the trusted AST scanner and the worker's runtime guard use
this module, and it must not import torch.
"""

from __future__ import annotations

_ROUTES = (
    "torch.{op}",
    "torch.{op}_",
    "torch.Tensor.{op}",
    "torch.Tensor.{op}_",
    "torch.nn.functional.{op}",
    "torch.nn.functional.{op}_",
    "torch.special.{op}",
    "torch._C._nn.{op}",
    "torch._C._nn.{op}_",
    "torch._C._VariableFunctions.{op}",
    "torch._C._special.special_{op}",
)

# Routes that do not follow the naming pattern: module classes, aliases, fused variants.
_EXTRA: dict[str, tuple[str, ...]] = {
    "sigmoid": ("torch.nn.Sigmoid", "torch.special.expit", "torch.Tensor.sigmoid"),
    "tanh": ("torch.nn.Tanh",),
    "relu": ("torch.nn.ReLU", "torch.nn.functional.relu6", "torch.nn.ReLU6"),
    "leaky_relu": ("torch.nn.LeakyReLU", "torch.rrelu", "torch.nn.functional.rrelu"),
    "heaviside": ("torch.Tensor.heaviside",),
    "softmax": ("torch.nn.Softmax", "torch.nn.Softmax2d", "torch._softmax"),
    "log_softmax": ("torch.nn.LogSoftmax", "torch._log_softmax"),
    "logsumexp": ("torch.special.logsumexp",),
    "cross_entropy": ("torch.nn.CrossEntropyLoss", "torch._C._nn.cross_entropy_loss"),
    "nll_loss": ("torch.nn.NLLLoss", "torch._C._nn.nll_loss_nd", "torch._C._nn.nll_loss2d"),
    "mse_loss": ("torch.nn.MSELoss",),
    "linear": ("torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear"),
    "dropout": (
        "torch.nn.Dropout",
        "torch.nn.Dropout1d",
        "torch.nn.AlphaDropout",
        "torch.native_dropout",
    ),
    "batch_norm": (
        "torch.nn.BatchNorm1d",
        "torch.nn.BatchNorm2d",
        "torch.nn.LazyBatchNorm1d",
        "torch.native_batch_norm",
        "torch._native_batch_norm_legit",
        "torch.nn.modules.batchnorm._BatchNorm",
    ),
}


def expand(entry: str) -> set[str]:
    """All qualified names (or ``prefix.*`` patterns) that one forbid entry stands for."""
    entry = entry.strip()
    if "." in entry:
        names = {entry}
        if entry.startswith("torch.nn.functional.") and not entry.endswith("*"):
            op = entry.rsplit(".", 1)[1]
            names |= {f"torch.Tensor.{op}", f"torch._C._nn.{op}"}
        return names
    names = {route.format(op=entry) for route in _ROUTES}
    names |= set(_EXTRA.get(entry, ()))
    return names


def expand_all(entries: list[str]) -> set[str]:
    """Union of :func:`expand` over a forbid list."""
    out: set[str] = set()
    for entry in entries:
        out |= expand(entry)
    return out


def matches(name: str, forbidden: set[str]) -> str | None:
    """The forbid entry that ``name`` falls under (exactly or by a ``prefix.*``), else None."""
    if name in forbidden:
        return name
    for pattern in forbidden:
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return pattern
    return None


def display(name: str) -> str:
    """A student-friendly spelling: torch.nn.functional.X -> F.X stays qualified for clarity."""
    return name.replace("torch._C._VariableFunctions.", "torch.").replace("torch._C._nn.", "F.")
