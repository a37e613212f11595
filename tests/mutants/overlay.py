"""Build a submission by overlaying a small Python file on a reference solution.

An overlay is data, not code that runs here: it is parsed with ``ast`` and spliced into the
reference's text.

- ``CHECK = "task/check"``, ``MESSAGE = "..."`` (a fragment of the message the check must give)
  and the module docstring say what the overlay is for; they are never copied.
- Top-level imports are added after the reference's imports.
- A top-level function or class whose name the reference defines replaces that definition.
- A class written *without bases* (``class Adam:``) is a patch: each of its methods replaces the
  reference class's method of that name (or is added to the class).
- Any other definition, and any other top-level statement (a hostile submission's import-time
  code), is appended at the end of the file, in order.

Overlay files may use names the reference defines (``_fans``, ``softmax``) and so start with
``# ruff: noqa: F821``.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Overlay:
    path: Path
    check: str | None
    message: str | None
    doc: str
    source: str


def read_overlay(path: Path) -> Overlay:
    """The overlay file with its ``CHECK`` target and docstring."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if _is_marker(node) and isinstance(node.value, ast.Constant)
    }
    return Overlay(
        path, found.get("CHECK"), found.get("MESSAGE"), ast.get_docstring(tree) or "", source
    )


def _is_marker(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] in (
        ["CHECK"],
        ["MESSAGE"],
    )


def _span(node: ast.stmt) -> tuple[int, int]:
    """0-based [start, end) line span of a definition, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first - 1, node.end_lineno


def _segment(lines: list[str], node: ast.stmt) -> str:
    start, end = _span(node)
    return "".join(lines[start:end])


def _indent(text: str, prefix: str) -> str:
    return textwrap.indent(textwrap.dedent(text), prefix)


def apply_overlay(reference: str, overlay: str) -> str:
    """The reference's text with the overlay's definitions spliced in (see module docstring)."""
    ref_lines = reference.splitlines(keepends=True)
    ov_lines = overlay.splitlines(keepends=True)
    ref_tree = ast.parse(reference)
    ov_tree = ast.parse(overlay)
    defs = {
        n.name: n
        for n in ref_tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    # (start, end, replacement text) edits on reference lines, applied bottom-up
    edits: list[tuple[int, int, str]] = []
    imports: list[str] = []
    appended: list[str] = []
    for node in ov_tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(_segment(ov_lines, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            target = defs.get(node.name)
            if target is None:
                appended.append(_segment(ov_lines, node))
            elif (
                isinstance(node, ast.ClassDef)
                and not node.bases
                and isinstance(target, ast.ClassDef)
            ):
                edits += _patch_methods(ref_lines, ov_lines, target, node)
            else:
                start, end = _span(target)
                edits.append((start, end, _segment(ov_lines, node)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "CHECK"
        ]:
            continue
        else:
            appended.append(_segment(ov_lines, node))
    if imports:
        last_import = max(
            (n.end_lineno for n in ref_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))),
            default=0,
        )
        edits.append((last_import, last_import, "".join(imports)))
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if not text.endswith("\n"):
            text += "\n"
        ref_lines[start:end] = [text]
    out = "".join(ref_lines)
    for block in appended:
        out = out.rstrip("\n") + "\n\n\n" + block.rstrip("\n") + "\n"
    return out


def _patch_methods(
    ref_lines: list[str], ov_lines: list[str], target: ast.ClassDef, patch: ast.ClassDef
) -> list[tuple[int, int, str]]:
    methods = {
        n.name: n for n in target.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    edits = []
    for node in patch.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        old = methods.get(node.name)
        if old is not None:
            start, end = _span(old)
            prefix = ref_lines[start][: len(ref_lines[start]) - len(ref_lines[start].lstrip())]
            edits.append((start, end, _indent(_segment(ov_lines, node), prefix)))
        else:
            end = target.end_lineno
            edits.append((end, end, "\n" + _indent(_segment(ov_lines, node), "    ")))
    return edits


def build(reference_path: Path, overlay_path: Path) -> str:
    """Submission text: ``reference_path`` with the overlay at ``overlay_path`` applied."""
    return apply_overlay(
        reference_path.read_text(encoding="utf-8"), overlay_path.read_text(encoding="utf-8")
    )
