"""Probes: one call the worker makes, with its inputs generated on the trusted side.

A probe's header is plain JSON; its inputs are tensors generated from a seed derived from
(assignment, task, check, case), so the same spec always yields the same inputs and the worker
never needs (or sees) a seed for inputs. ``Plan`` groups an assignment's probes by task.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import torch

from autograder.spec.models import Arg, Case
from autograder.wire.arch import architecture
from autograder.wire.modules import fill_value, key_seed

_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
    "uint8": torch.uint8,
}


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from names, stable across runs, machines and Python versions."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@dataclass
class Probe:
    """One call for the worker: ``header`` is JSON, ``tensors`` its inputs keyed by name."""

    id: str
    task: str
    check: str
    header: dict[str, Any]
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class Plan:
    """All probes of an assignment, grouped by task in spec order."""

    assignment: str
    tasks: dict[str, list[Probe]]

    def probes(self) -> list[Probe]:
        return [p for probes in self.tasks.values() for p in probes]


class Builder:
    def __init__(self, probe_id: str, seed: int, dtype: str) -> None:
        self.prefix = probe_id
        self.generator = torch.Generator().manual_seed(seed)
        self.dtype = dtype
        self.tensors: dict[str, torch.Tensor] = {}

    def tensor(self, name: str, arg: Arg) -> dict[str, Any]:
        if arg.value is not None or arg.none:
            return {"v": arg.value, "lists": True} if arg.lists else {"v": arg.value}
        if arg.items is not None:
            return {"list": [self.tensor(f"{name}.{i}", item) for i, item in enumerate(arg.items)]}
        if arg.module is not None:
            return self._module(name, arg.module)
        if arg.fn is not None:
            params = {k: self.tensor(f"{name}.{k}", a) for k, a in sorted(arg.params.items())}
            return {"fn": arg.fn, "params": params, "options": arg.options}
        key = f"{self.prefix}|{name}"
        self.tensors[key] = self._generate(arg)
        if arg.tile is not None:
            self.tensors[key] = self.tensors[key].repeat(*arg.tile)
        ref: dict[str, Any] = {"t": key, "grad": arg.grad}
        if arg.with_grad is not None:
            grad = torch.randn(
                self.tensors[key].shape, generator=self.generator, dtype=torch.float64
            )
            self.tensors[f"{key}.grad"] = (grad * arg.with_grad).to(self.tensors[key].dtype)
            ref["with_grad"] = f"{key}.grad"
        return ref

    def _module(self, name: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
        """A network of the grader's: its layer configs, and its tensors by state_dict key
        (``wire.modules.fill_value``, seeded by this probe and the key; counters zero)."""
        seed = int(torch.randint(1 << 62, (1,), generator=self.generator))
        state = {}
        for key, (shape, dtype) in architecture(layers).state_shapes().items():
            tensor_key = f"{self.prefix}|{name}.{key}"
            self.tensors[tensor_key] = (
                fill_value(shape, torch.float32, key_seed(seed, key))
                if dtype == "float32"
                else torch.zeros(shape, dtype=_DTYPES[dtype])
            )
            state[key] = {"t": tensor_key, "grad": False}
        return {"module": layers, "state": state}

    def _generate(self, arg: Arg) -> torch.Tensor:
        dtype = _DTYPES[arg.dtype or self.dtype]
        g = self.generator
        if arg.values is not None:
            return torch.tensor(arg.values, dtype=dtype)
        if arg.zeros is not None:
            return torch.zeros(arg.zeros, dtype=dtype)
        if arg.ones is not None:
            return torch.ones(arg.ones, dtype=dtype)
        if arg.randint is not None:
            # int64 unless the argument names another integer dtype (uint8: quantized values)
            as_int = torch.uint8 if arg.dtype == "uint8" else torch.int64
            return torch.randint(int(arg.high), arg.randint, generator=g, dtype=as_int)
        if arg.pairs is not None:
            rows, cols = self._pairs(*arg.pairs)
            return rows if arg.take == "rows" else cols
        if arg.rand is not None:
            x = torch.rand(arg.rand, generator=g, dtype=torch.float64)
            return (arg.low + (arg.high - arg.low) * x).to(dtype)
        x = torch.randn(arg.randn, generator=g, dtype=torch.float64) * arg.scale
        if arg.away_from_zero > 0:
            # push values off the kink symmetrically; the distribution stays continuous
            x = torch.where(x >= 0, x + arg.away_from_zero, x - arg.away_from_zero)
        return (x + arg.shift).to(dtype)

    def _pairs(self, n_rows: int, n_cols: int, nnz: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``nnz`` distinct (row, col) pairs of an ``n_rows x n_cols`` matrix, in random order
        (int64 [nnz] each): one draw per probe and shape, whichever argument asks first."""
        g = torch.Generator().manual_seed(derive_seed(self.prefix, "pairs", n_rows, n_cols, nnz))
        total = n_rows * n_cols
        if total <= 1 << 22:
            flat = torch.randperm(total, generator=g)[:nnz]
        else:
            # too many cells to permute: draw with replacement until nnz distinct, then shuffle
            found = torch.empty(0, dtype=torch.int64)
            while found.numel() < nnz:
                draw = torch.randint(total, (2 * nnz,), generator=g)
                found = torch.unique(torch.cat([found, draw]))
            flat = found[torch.randperm(found.numel(), generator=g)[:nnz]]
        return flat // n_cols, flat % n_cols


def describe_arg(arg: Arg) -> str:
    """A short human description of a generated argument, for student-facing messages."""
    if arg.tile is not None:
        once = describe_arg(arg.model_copy(update={"tile": None}))
        return f"{once} repeated {'x'.join(map(str, arg.tile))}"
    for field_name in ("randn", "rand", "zeros", "ones"):
        shape = getattr(arg, field_name)
        if shape is not None:
            extra = f", scale {arg.scale:g}" if field_name == "randn" and arg.scale != 1 else ""
            dtype = f", {arg.dtype}" if arg.dtype else ""
            return f"{field_name}{tuple(shape)}{extra}{dtype}"
    if arg.randint is not None:
        return f"randint(0..{int(arg.high) - 1}, shape {tuple(arg.randint)})"
    if arg.pairs is not None:
        n_rows, n_cols, nnz = arg.pairs
        return f"{arg.take} of {nnz} distinct pairs in {n_rows}x{n_cols}"
    if arg.values is not None:
        text = str(arg.values)
        return f"values {text if len(text) <= 60 else text[:57] + '...'}"
    if arg.items is not None:
        return "[" + ", ".join(describe_arg(a) for a in arg.items) + "]"
    if arg.module is not None:
        return architecture(arg.module).describe()
    if arg.fn is not None:
        return f"the grader's {arg.fn}"
    return repr(arg.value)


def describe_case(case: Case) -> str:
    """``x = randn(4, 5), dim=0`` style description of one call."""
    parts = [describe_arg(a) for a in case.args]
    parts += [f"{k}={v!r}" for k, v in case.kwargs.items()]
    return "input " + ", ".join(parts)
