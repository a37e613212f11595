"""Static detection of forbidden torch APIs in a submission's source (trusted side, never executes it).

The source is parsed with ``ast``; aliases are resolved (``import torch.nn.functional as F``,
``from torch import softmax as s``, ``sm = torch.softmax``), method calls such as ``x.softmax()``
are recognised, and ``getattr(torch, <computed>)``, ``eval``/``exec``/``__import__``/``importlib`` are
flagged because they hide which API is used. Findings are attributed to top-level definitions and
propagated through the names each definition references, so a forbidden call in a helper costs
only the tasks whose symbols use that helper.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from autograder.trusted import pysource
from autograder.wire import apis

_DYNAMIC = {"eval", "exec", "compile", "__import__", "operator.methodcaller", "operator.attrgetter"}
_DYNAMIC_PREFIXES = ("getattr(", "importlib", "vars(")


@dataclass(frozen=True)
class Finding:
    name: str
    line: int
    owner: str

    def describe(self) -> str:
        return f"{apis.display(self.name)} (line {self.line})"


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return list(reversed(parts))
    return None


class _Scanner:
    """Collects uses and references under one node; each ``visit_*`` says whether to descend.

    The walk is iterative: a recursive ``ast.NodeVisitor`` dies on a few hundred nested
    operators (``x + 1 + 1 ...``), which a hostile file could use to crash the grader.
    """

    def __init__(self, aliases: dict[str, str], top_level: set[str], star_torch: bool) -> None:
        self.aliases = aliases
        self.top_level = top_level
        self.star_torch = star_torch
        self.uses: list[tuple[str, int]] = []
        self.refs: set[str] = set()

    def _qualify(self, parts: list[str]) -> str | None:
        root = self.aliases.get(parts[0])
        if root is None:
            return None
        return ".".join([root, *parts[1:]])

    def run(self, root: ast.AST) -> None:
        stack = [root]
        while stack:
            node = stack.pop()
            handler = getattr(self, f"visit_{type(node).__name__}", None)
            if handler is None or handler(node):
                stack.extend(reversed(list(ast.iter_child_nodes(node))))

    def visit_Import(self, node: ast.Import) -> bool:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases.setdefault(alias.name.split(".")[0], alias.name.split(".")[0])
            if alias.name.split(".")[0] == "importlib":
                self.uses.append(("importlib", node.lineno))
        return False

    def visit_ImportFrom(self, node: ast.ImportFrom) -> bool:
        if node.module:
            for alias in node.names:
                if alias.name != "*":
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    self.uses.append((f"{node.module}.{alias.name}", node.lineno))
            if node.module.split(".")[0] == "importlib":
                self.uses.append(("importlib", node.lineno))
        return False

    def visit_Attribute(self, node: ast.Attribute) -> bool:
        parts = _dotted(node)
        if parts:
            qualified = self._qualify(parts)
            if qualified:
                if node.attr == "__dict__" and qualified.split(".")[0] == "torch":
                    qualified = f"vars({qualified[: -len('.__dict__')]})[<computed name>]"
                self.uses.append((qualified, node.lineno))
                return False
        # a method call on a value: x.softmax(...) -> torch.Tensor.softmax
        receiver = node.value
        if not (isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")):
            self.uses.append((f"torch.Tensor.{node.attr}", node.lineno))
        return True

    def visit_Name(self, node: ast.Name) -> bool:
        if node.id in self.top_level:
            self.refs.add(node.id)
        elif node.id in self.aliases and self.aliases[node.id] != node.id:
            self.uses.append((self.aliases[node.id], node.lineno))
        elif node.id in _DYNAMIC:
            self.uses.append((node.id, node.lineno))
        elif self.star_torch and node.id not in __builtins__:  # type: ignore[operator]
            self.uses.append((f"torch.{node.id}", node.lineno))
        return False

    def _torchish(self, node: ast.AST) -> str | None:
        target = _dotted(node)
        qualified = self._qualify(target) if target else None
        return qualified if qualified and qualified.split(".")[0] == "torch" else None

    def visit_Call(self, node: ast.Call) -> bool:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            qualified = self._torchish(node.args[0])
            name_node = node.args[1]
            constant = isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)
            if qualified:
                if constant:
                    self.uses.append((f"{qualified}.{name_node.value}", node.lineno))
                else:
                    self.uses.append((f"getattr({qualified}, <computed name>)", node.lineno))
            elif constant:
                # getattr(x, "softmax") on a value: the Tensor method by another spelling
                self.uses.append((f"torch.Tensor.{name_node.value}", node.lineno))
        elif isinstance(func, ast.Name) and func.id == "vars" and node.args:
            qualified = self._torchish(node.args[0])
            if qualified:
                self.uses.append((f"vars({qualified})[<computed name>]", node.lineno))
        return True


def _module_aliases(tree: ast.Module) -> tuple[dict[str, str], bool]:
    aliases: dict[str, str] = {}
    star = False
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name == "*":
                    star = star or node.module.split(".")[0] == "torch"
                else:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    # simple module-level aliases: sm = torch.softmax / F = torch.nn.functional
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            parts = _dotted(node.value)
            if parts and parts[0] in aliases:
                aliases[node.targets[0].id] = ".".join([aliases[parts[0]], *parts[1:]])
    return aliases, star


def scan(source: str) -> dict[str, list[Finding]] | None:
    """Qualified names each top-level definition uses, plus ``<refs>`` edges; None on syntax errors."""
    try:
        tree = pysource.parse(source)
    except SyntaxError:
        return None
    return scan_tree(tree)


def scan_tree(tree: ast.Module) -> dict[str, list[Finding]]:
    """``scan`` of an already parsed module."""
    aliases, star = _module_aliases(tree)
    top_level = {
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    top_level.add(target.id)
    result: dict[str, list[Finding]] = {}
    edges: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            owners = [node.name]
        elif isinstance(node, ast.Assign):
            owners = [t.id for t in node.targets if isinstance(t, ast.Name)]
        else:
            continue
        scanner = _Scanner(dict(aliases), top_level - set(owners), star)
        scanner.run(node)
        for owner in owners:
            result[owner] = [Finding(n, line, owner) for n, line in scanner.uses]
            edges[owner] = scanner.refs
    closure: dict[str, list[Finding]] = {}
    for owner in result:
        seen, stack = {owner}, [owner]
        while stack:
            for ref in edges.get(stack.pop(), ()):
                if ref not in seen:
                    seen.add(ref)
                    stack.append(ref)
        closure[owner] = [f for name in sorted(seen) for f in result.get(name, [])]
    return closure


def forbidden_uses(
    closure: dict[str, list[Finding]], symbols: list[str], forbid: list[str]
) -> list[Finding]:
    """Findings in the task's symbols (and what they reference) that the forbid list covers."""
    if not forbid:
        return []
    patterns = apis.expand_all(forbid)
    found: dict[str, Finding] = {}
    for symbol in symbols:
        for finding in closure.get(symbol, []):
            dynamic = finding.name in _DYNAMIC or finding.name.startswith(_DYNAMIC_PREFIXES)
            if dynamic or apis.matches(finding.name, patterns):
                found.setdefault(finding.name, finding)
    return sorted(found.values(), key=lambda f: f.line)
