"""Python values that are not tensors, on the wire: capped, typed JSON trees.

A symbol may return a vocabulary (``dict[str, int]``), entity spans (a list of tuples), a float
score or a tuple mixing tensors and numbers. The worker encodes such a value as a JSON tree in
which every node names its type, and the tensors inside it travel beside the tree as ordinary
safetensors outputs; nothing is pickled. The trusted side parses the tree back with ``decode``,
which accepts only this grammar, within fixed caps, and raises ``ValueError`` on anything else:

    null | true | false | int | float | str
    {"float": "nan" | "inf" | "-inf"}        non-finite floats (JSON has none)
    {"list": [node, ...]}  {"tuple": [node, ...]}
    {"dict": [[key, node], ...]}             keys: str, int or bool, in insertion order
    {"tensor": "<name of a tensor output>"}

Both sides import this module; it imports torch only to recognise tensors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import torch

# Caps for one value: nodes in the tree, nesting depth, characters per string and magnitude of
# ints (a grader compares with its own values, which never come near these).
MAX_NODES = 200_000
MAX_DEPTH = 32
MAX_STRING = 1_000
MAX_INT = 2**63


@dataclass(frozen=True)
class TensorRef:
    """A tensor inside a decoded value: the name of the output that holds it."""

    name: str


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0

    def take(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ValueError(f"the value has more than {MAX_NODES:,} items")
        if depth > MAX_DEPTH:
            raise ValueError(f"the value is nested more than {MAX_DEPTH} levels deep")


def type_name(value: Any) -> str:
    """How a message names the type of a Python value."""
    if isinstance(value, torch.Tensor):
        return "Tensor"
    return type(value).__name__


def encode(value: Any, prefix: str = "out") -> tuple[Any, dict[str, torch.Tensor]]:
    """(JSON tree, tensors by name) for ``value``; ``ValueError`` for what the grammar cannot
    carry (another type, a string or int over the caps, a cycle). Tensors are detached plain
    copies named ``prefix``, ``prefix.0``, ``prefix.1.key`` ..."""
    tensors: dict[str, torch.Tensor] = {}
    budget = _Budget()

    def walk(v: Any, path: str, depth: int) -> Any:
        budget.take(depth)
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, torch.Tensor):
            tensors[path] = v.detach().as_subclass(torch.Tensor).clone()
            return {"tensor": path}
        if isinstance(v, numbers.Integral):
            number = int(v)
            if abs(number) >= MAX_INT:
                raise ValueError(f"an int at {_where(path, prefix)} is beyond 64 bits")
            return number
        if isinstance(v, numbers.Real):
            number = float(v)
            if math.isnan(number):
                return {"float": "nan"}
            if math.isinf(number):
                return {"float": "inf" if number > 0 else "-inf"}
            return number
        if isinstance(v, str):
            if len(v) > MAX_STRING:
                raise ValueError(f"a string at {_where(path, prefix)} is over {MAX_STRING} chars")
            return v
        if isinstance(v, (list, tuple)):
            tag = "tuple" if isinstance(v, tuple) else "list"
            return {tag: [walk(item, f"{path}.{i}", depth + 1) for i, item in enumerate(v)]}
        if isinstance(v, dict):
            items = []
            for i, (key, item) in enumerate(v.items()):
                bad_type = isinstance(key, bool) or not isinstance(key, (str, int))
                if bad_type or (isinstance(key, str) and len(key) > MAX_STRING):
                    raise ValueError(
                        f"a dict key at {_where(path, prefix)} is a {type_name(key)}; "
                        "keys must be str or int"
                    )
                budget.take(depth + 1)
                items.append([key, walk(item, f"{path}.{i}", depth + 1)])
            return {"dict": items}
        raise ValueError(f"{_where(path, prefix)} is a {type_name(v)}, which cannot be compared")

    return walk(value, prefix, 0), tensors


def _where(path: str, prefix: str) -> str:
    return "the value" if path == prefix else f"item {path[len(prefix) + 1 :]}"


_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def decode(tree: Any, tensors: dict[str, torch.Tensor] | None = None) -> Any:
    """The Python value of a tree from ``encode``: lists, tuples, dicts, numbers, strings, None,
    and ``TensorRef`` (or, when ``tensors`` is given, the tensor it names). Raises ``ValueError``
    for anything outside the grammar or the caps: this runs on the trusted side, on what a
    worker sent."""
    budget = _Budget()

    def walk(node: Any, depth: int) -> Any:
        budget.take(depth)
        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, int):
            if abs(node) >= MAX_INT:
                raise ValueError("an int beyond 64 bits")
            return node
        if isinstance(node, float):
            if not math.isfinite(node):
                raise ValueError("a bare non-finite float")
            return node
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                raise ValueError(f"a string over {MAX_STRING} characters")
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"a {type(node).__name__} where a typed node was expected")
        tag, body = next(iter(node.items()))
        if tag == "float" and body in _FLOATS:
            return _FLOATS[body]
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [walk(item, depth + 1) for item in body]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict" and isinstance(body, list):
            out: dict[Any, Any] = {}
            for entry in body:
                if not (isinstance(entry, list) and len(entry) == 2):
                    raise ValueError("a dict entry that is not a [key, value] pair")
                key = entry[0]
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise ValueError("a dict key that is not str or int")
                if key in out:
                    raise ValueError(f"the dict key {key!r} twice")
                budget.take(depth + 1)
                out[key] = walk(entry[1], depth + 1)
            return out
        if tag == "tensor" and isinstance(body, str):
            if tensors is None:
                return TensorRef(body)
            if body not in tensors:
                raise ValueError(f"the tensor {body!r} did not arrive")
            return tensors[body]
        raise ValueError(f"an unknown node {tag!r}")

    return walk(tree, 0)
