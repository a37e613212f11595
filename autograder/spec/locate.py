"""One way to say where a TOML file is wrong: ``file: tasks[0] (id 'acts').points: message``.

Used for assignment specs and the course rubric alike, so every located error reads the same.
"""

from __future__ import annotations

import tomllib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from autograder.errors import SpecError

M = TypeVar("M", bound=BaseModel)


def where(raw: Any, loc: tuple[Any, ...] | list[Any]) -> str:
    """``components[2] (id 'hw3').late.max_days`` from a pydantic error location in ``raw``."""
    out = ""
    node = raw
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str) and node["id"]:
                out += f" (id {node['id']!r})"
        elif isinstance(node, dict) and key not in node and out:
            continue  # a discriminated-union tag such as "forward" or "per_day", not a field
        else:
            out += ("." if out else "") + str(key)
            node = node.get(key) if isinstance(node, dict) else None
    return out or "(top level)"


def error_lines(source: str, raw: Any, exc: ValidationError) -> list[str]:
    """One ``source: where: message`` line per problem pydantic found."""
    return [
        f"{source}: {where(raw, err.get('loc', ()))}: "
        f"{err.get('msg', 'invalid').removeprefix('Value error, ')}"
        for err in exc.errors()
    ]


def parse_toml(model: type[M], text: str, source: str) -> tuple[M, dict[str, Any]]:
    """Validate TOML ``text`` as ``model``; ``SpecError`` lists every problem with its place.

    Returns the model and the raw TOML data (for checks the model cannot make alone).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        raise SpecError("\n".join(error_lines(source, raw, exc))) from None
