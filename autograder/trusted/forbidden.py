"""Static detection of forbidden torch APIs in a submission's source (trusted side, never executes it).

The source is parsed with ``ast``; aliases are resolved (``import torch.nn.functional as F``,
``from torch import softmax as s``, ``sm = torch.softmax``), attributes on values are read as
Tensor methods (``x.softmax()``, and ``self.softmax()`` unless the class defines ``softmax``
itself), and names that hide which API is used (``eval``, ``getattr`` with a computed name or
passed as a value, ``vars``, ``__dict__``) or that reach the grader's machinery in the worker
(``sys.setprofile``, ``ctypes``, ``gc``, frames, ``autograder``) are reported too: see
``autograder.wire.apis`` for the tables.

Attribution. Every module-level statement, whatever its kind (``def``, ``class``, assignments of
every form, ``import``, ``if``/``for``/``while``/``with``/``try``/``match`` and what they bind,
walrus targets, decorators and default values with their definition), becomes a *unit* owned by
the module-level names it binds. A unit that binds no name (a call, ``globals().update(...)``,
``setattr(module, ...)``, an assignment to an attribute or item) is import-time code, owned by
``<module>``; so is a module-level ``__getattr__``, which stands for every name the file does
not bind. A function that declares ``global x`` is reachable from ``x``. Findings then follow
the references between module-level names: a check costs what its symbol reaches, plus what
``<module>`` reaches (it ran at import). Test code under ``if __name__ == "__main__":`` never
runs in the worker and is owned by nobody (unless the file assigns ``__name__``).

Cost. One walk over the tree builds the units; each question "what does this symbol reach" is
one depth-first search over units and references, memoised per symbol, and keeps one finding per
distinct name. A spec asks about a fixed number of symbols, so the scan is linear in the size of
the file (``benchmarks/forbidden_scan.py`` prints the figures for 1 MB worst cases).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autograder.trusted import pysource
from autograder.wire import apis

if TYPE_CHECKING:
    from autograder.spec.models import Task
    from autograder.trusted.raw import Execution

MODULE = "<module>"
# owner of `if __name__ == "__main__":` code: nothing reaches it
_NOT_RUN = "<main>"
_BUILTINS = frozenset(dir(builtins))
# calls whose callee is judged with its arguments (see _Unit.visit_Call)
_SPECIAL_CALLS = frozenset({"getattr", "vars"})
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# how far `self.x` looks for `x` up a chain of classes defined in the file
_MAX_BASES = 16
# findings kept per kind in a message
_SHOWN = 3


@dataclass(frozen=True)
class Finding:
    """One use of a name. ``kind``: "api" (a named API), "dynamic" (hides which API), "tampering"
    (reaches the grader's machinery) or "runtime" (reported by the worker's guard; ``line`` 0
    while a probe ran, else the import-time line)."""

    name: str
    line: int
    owner: str
    kind: str = "api"

    def describe(self) -> str:
        if self.kind == "runtime":
            return apis.display(self.name)
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


def _kind(name: str, cache: dict[str, str]) -> str:
    kind = cache.get(name)
    if kind is None:
        kind = cache[name] = (
            "tampering"
            if apis.is_tampering(name)
            else "dynamic"
            if apis.is_dynamic(name)
            else "api"
        )
    return kind


# -- classes: what `self.x` may name without being a Tensor method ------------------------------


class _Classes:
    """The names each class defines itself (methods, class attributes, ``self.x = ...``), and its
    in-file bases, so that ``self.x`` is a Tensor method only when the class does not define x."""

    def __init__(self, by_name: dict[str, list[ast.ClassDef]]) -> None:
        self.by_name = by_name
        self._own: dict[int, frozenset[str]] = {}

    @staticmethod
    def receiver(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        """The first parameter of a method (``self``/``cls``), None for a static method."""
        for deco in func.decorator_list:
            if isinstance(deco, ast.Name) and deco.id == "staticmethod":
                return None
        params = [*func.args.posonlyargs, *func.args.args]
        return params[0].arg if params else None

    def own(self, cls: ast.ClassDef) -> frozenset[str]:
        found = self._own.get(id(cls))
        if found is not None:
            return found
        names: set[str] = set()
        stack: list[tuple[ast.AST, str | None]] = []
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(stmt.name)
            for target in _assign_targets(stmt):
                names.update(_bound_names(target))
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((stmt, self.receiver(stmt)))
        while stack:  # self.x = ... anywhere in the methods (nested classes are their own)
            node, recv = stack.pop()
            for target in _assign_targets(node):
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == recv
                ):
                    names.add(target.attr)
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.ClassDef):
                    stack.append((child, recv))
        found = self._own[id(cls)] = frozenset(names)
        return found

    def defines(self, cls: ast.ClassDef, attr: str) -> bool:
        seen: set[int] = set()
        todo = [(cls, 0)]
        while todo:
            node, depth = todo.pop()
            if id(node) in seen or depth > _MAX_BASES:
                continue
            seen.add(id(node))
            if attr in self.own(node):
                return True
            for base in node.bases:
                if isinstance(base, ast.Name):
                    todo += [(b, depth + 1) for b in self.by_name.get(base.id, [])]
        return False


def _assign_targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return [node.target]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in node.items if i.optional_vars is not None]
    return []


def _bound_names(target: ast.AST) -> list[str]:
    """Names a target binds in the enclosing scope (``a``, ``a, (b, *c)``); not ``x.y``/``x[i]``."""
    out: list[str] = []
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            out.append(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
    return out


def _mutates_other(target: ast.AST) -> bool:
    """Whether a target writes into an object (``x.y = ``, ``x[i] = ``) rather than a name."""
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return True
        if isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
    return False


def _is_main_test(test: ast.AST) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


# -- units: module-level code, each owned by the names it binds ---------------------------------


@dataclass
class _Unit:
    nodes: list[ast.AST]
    owners: list[str]
    start: int = 0
    end: int = 0
    findings: dict[str, Finding] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)
    # owned by <module> only because it binds no name (until a walrus target says otherwise)
    fallback: bool = False
    loaded: dict[str, int] = field(default_factory=dict)
    walrus: list[str] = field(default_factory=list)


def _span(nodes: list[ast.AST]) -> tuple[int, int]:
    starts, ends = [], []
    for node in nodes:
        line = getattr(node, "lineno", None)
        if line is None:
            continue
        decos = getattr(node, "decorator_list", [])
        starts.append(min([line, *(d.lineno for d in decos)]))
        ends.append(getattr(node, "end_lineno", line) or line)
    return (min(starts), max(ends)) if starts else (0, 0)


def _units(tree: ast.Module) -> list[_Unit]:
    """Flatten module-level statements into units (see the module docstring)."""
    units: list[_Unit] = []
    stack: list[tuple[ast.stmt, bool]] = [(s, False) for s in reversed(tree.body)]

    def add(nodes: list[ast.AST], owners: list[str], default: str) -> None:
        nodes = [n for n in nodes if n is not None]
        if nodes:
            units.append(_Unit(nodes, owners or [default], fallback=not owners))

    while stack:
        stmt, in_main = stack.pop()
        default = _NOT_RUN if in_main else MODULE
        body: list[list[ast.stmt]] = []
        if isinstance(stmt, _DEFINITIONS):
            # a module __getattr__ answers for any name: what it reaches is everyone's
            extra = [default] if stmt.name == "__getattr__" else []
            add([stmt], [stmt.name, *extra], default)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            owners = [a.asname or a.name.split(".")[0] for a in stmt.names if a.name != "*"]
            add([stmt], owners, default)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = _assign_targets(stmt)
            owners = [n for t in targets for n in _bound_names(t)]
            if any(_mutates_other(t) for t in targets):
                owners.append(default)  # writes into an object: import-time code
            add([stmt], owners, default)
        elif isinstance(stmt, (ast.If, ast.While)):
            main = isinstance(stmt, ast.If) and _is_main_test(stmt.test)
            add([stmt.test], [], default)
            body = [stmt.orelse]
            stack += [(s, in_main or main) for s in reversed(stmt.body)]
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            owners = _bound_names(stmt.target)
            add([stmt.target, stmt.iter], owners, default)
            body = [stmt.body, stmt.orelse]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            owners = [n for t in _assign_targets(stmt) for n in _bound_names(t)]
            add(list(stmt.items), owners, default)
            body = [stmt.body]
        elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            body = [stmt.body, stmt.orelse, stmt.finalbody]
            for handler in stmt.handlers:
                add([handler.type], [handler.name] if handler.name else [], default)
                body.append(handler.body)
        elif isinstance(stmt, ast.Match):
            captures = []
            for case in stmt.cases:
                captured = [
                    n
                    for p in ast.walk(case.pattern)
                    for n in (getattr(p, "name", None), getattr(p, "rest", None))
                    if isinstance(n, str)
                ]
                captures += captured
                add([case.pattern, case.guard], captured, default)
                body.append(case.body)
            # the subject's value is what the cases capture
            add([stmt.subject], list(dict.fromkeys(captures)), default)
        elif isinstance(stmt, (ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue)):
            pass
        elif type(stmt).__name__ == "TypeAlias":  # Python 3.12
            add([stmt], _bound_names(stmt.name), default)  # type: ignore[attr-defined]
        else:  # expressions, del, raise, assert: import-time code
            add([stmt], [], default)
        for block in reversed(body):
            stack += [(s, in_main) for s in reversed(block)]
    for unit in units:
        unit.start, unit.end = _span(unit.nodes)
    return units


# AST fields that never hold code worth a visit (expression contexts, operators)
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind"})
_FIELDS: dict[type, tuple[str, ...]] = {}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_METHODS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` without contexts and operators (a third of all nodes), as a
    list: the scan walks every node of a file up to 1 MB, so this is its inner loop."""
    cls = type(node)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(f for f in cls._fields if f not in _SKIP_FIELDS)
    out: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out += [v for v in value if isinstance(v, ast.AST)]
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


class _Walker:
    """Collects one unit's uses, the names it loads and its module-scope walrus targets; each
    ``visit_*`` says whether to descend. References are resolved once every unit is walked
    (``scan_tree``), when all the names the module binds are known.

    The walk is iterative: a recursive ``ast.NodeVisitor`` dies on a few hundred nested
    operators (``x + 1 + 1 ...``), which a hostile file could use to crash the grader.
    """

    def __init__(
        self,
        aliases: dict[str, str],
        own_functions: frozenset[str],
        classes: _Classes,
        kinds: dict[str, str],
    ) -> None:
        self.module_aliases = aliases
        self.own_functions = own_functions
        self.classes = classes
        self.kinds = kinds
        self.dynamic: dict[str, bool] = {}
        self.handlers = {
            getattr(ast, name[len("visit_") :]): getattr(self, name)
            for name in dir(self)
            if name.startswith("visit_") and hasattr(ast, name[len("visit_") :])
        }

    def run(self, unit: _Unit) -> None:
        self.unit = unit
        self.local: dict[str, str] = {}  # imports inside this unit's functions
        self.loaded: dict[str, int] = {}  # name -> first line it is read on
        self.walrus: list[str] = []
        handlers = self.handlers
        # (node, receivers: parameter name -> the class it stands for, in module scope?)
        stack: list[tuple[ast.AST, dict[str, ast.ClassDef], bool]] = [
            (n, {}, True) for n in reversed(unit.nodes)
        ]
        while stack:
            node, receivers, module_scope = stack.pop()
            self.receivers = receivers
            handler = handlers.get(type(node))
            if handler is not None and not handler(node):
                continue
            if module_scope and isinstance(node, ast.NamedExpr):
                if isinstance(node.target, ast.Name):
                    self.walrus.append(node.target.id)
            children = _children(node)
            if isinstance(node, _SCOPES):
                # decorators, defaults and bases run where the definition is; the body later
                body = getattr(node, "body", None)
                body_ids = {id(b) for b in body} if isinstance(body, list) else {id(body)}
                is_class = isinstance(node, ast.ClassDef)
                for child in reversed(children):
                    inner = receivers
                    in_body = id(child) in body_ids
                    if is_class and in_body and isinstance(child, _METHODS):
                        recv = _Classes.receiver(child)
                        if recv:
                            inner = {**receivers, recv: node}
                    stack.append((child, inner, module_scope and not in_body))
                continue
            stack.extend((c, receivers, module_scope) for c in reversed(children))
        unit.loaded = self.loaded
        unit.walrus = self.walrus

    def use(self, name: str, line: int) -> None:
        if name.startswith(("torch.ops.", "aten.")):
            name = apis.normalise(name)  # an op overload is its op: aten._softmax.default
        found = self.unit.findings
        if name not in found:  # one finding per name and unit: the first line it is used on
            found[name] = Finding(name, line, self.unit.owners[0], _kind(name, self.kinds))

    def _alias(self, name: str) -> str | None:
        root = self.local.get(name)
        return root if root is not None else self.module_aliases.get(name)

    def _qualify(self, parts: list[str]) -> str | None:
        root = self._alias(parts[0])
        if root is None:
            return None
        return ".".join([root, *parts[1:]])

    def visit_Import(self, node: ast.Import) -> bool:
        for alias in node.names:
            if alias.asname:
                self.local[alias.asname] = alias.name
            else:
                self.local.setdefault(alias.name.split(".")[0], alias.name.split(".")[0])
            self.use(alias.name, node.lineno)
        return False

    def visit_ImportFrom(self, node: ast.ImportFrom) -> bool:
        if node.module:
            self.use(node.module, node.lineno)
            for alias in node.names:
                if alias.name != "*":
                    self.local[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    self.use(f"{node.module}.{alias.name}", node.lineno)
        return False

    def visit_Global(self, node: ast.Global) -> bool:
        self.unit.declared_global.update(node.names)
        return False

    def visit_Attribute(self, node: ast.Attribute) -> bool:
        parts = _dotted(node)
        if parts:
            qualified = self._qualify(parts)
            if qualified:
                self.use(qualified, node.lineno)
                self.loaded.setdefault(parts[0], node.lineno)
                return False
        receiver = node.value
        if isinstance(receiver, ast.Name) and receiver.id in self.receivers:
            # self.x: the class's own x, or a Tensor method reached through self
            if not self.classes.defines(self.receivers[receiver.id], node.attr):
                self.use(f"torch.Tensor.{node.attr}", node.lineno)
            return False
        # a method call on a value: x.softmax(...) -> torch.Tensor.softmax
        self.use(f"torch.Tensor.{node.attr}", node.lineno)
        return True

    def visit_Name(self, node: ast.Name) -> bool:
        name = node.id
        local = self.local.get(name)
        if local is not None:  # imported inside this unit: a local alias
            if local != name:
                self.use(local, node.lineno)
            return False
        self.loaded.setdefault(name, node.lineno)
        target = self.module_aliases.get(name)
        if target is not None and target != name:
            self.use(target, node.lineno)
        else:
            dynamic = self.dynamic.get(name)
            if dynamic is None:
                dynamic = self.dynamic[name] = name in _SPECIAL_CALLS or apis.is_dynamic(name)
            if dynamic:
                # getattr/vars/eval as a value (a call to them is judged in visit_Call)
                self.use(name, node.lineno)
        return False

    def _target(self, node: ast.AST) -> str | None:
        """The qualified module path of an expression, for ``getattr(torch, ...)``."""
        target = _dotted(node)
        return self._qualify(target) if target else None

    def visit_Call(self, node: ast.Call) -> bool:
        func = node.func
        if not (isinstance(func, ast.Name) and func.id in _SPECIAL_CALLS):
            return True
        if func.id in self.own_functions:  # the file's own function of that name
            return True
        args = node.args
        if func.id == "getattr" and len(args) >= 2:
            owner = self._target(args[0])
            name_node = args[1]
            constant = isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)
            if constant:
                attr = ast.Attribute(value=args[0], attr=name_node.value, ctx=ast.Load())
                ast.copy_location(attr, node)
                self._push_extra(attr)
            elif owner:
                self.use(f"getattr({owner}, <computed name>)", node.lineno)
            else:
                self.use("getattr(<value>, <computed name>)", node.lineno)
        elif func.id == "vars":
            owner = self._target(args[0]) if args else None
            self.use(f"vars({owner or ''})[<computed name>]", node.lineno)
        else:
            self.use(func.id, node.lineno)
        # the arguments are scanned as usual; the callee name is not (it was judged here)
        for child in [*args, *node.keywords]:
            self._push_extra(child)
        return False

    def _push_extra(self, node: ast.AST) -> None:
        # a sub-walk in place with the same receivers (getattr/vars calls only: rare)
        receivers = self.receivers
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            self.receivers = receivers
            handler = self.handlers.get(type(current))
            if handler is None or handler(current):
                stack.extend(reversed(_children(current)))
        self.receivers = receivers


def _module_aliases(units: list[_Unit]) -> tuple[dict[str, str], bool]:
    """Import names and simple aliases (``F = torch.nn.functional``) bound at module level."""
    aliases: dict[str, str] = {}
    star = False
    for unit in units:
        node = unit.nodes[0]
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
    for unit in units:
        node = unit.nodes[0]
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            parts = _dotted(node.value)
            if parts and parts[0] in aliases:
                aliases[node.targets[0].id] = ".".join([aliases[parts[0]], *parts[1:]])
    return aliases, star


class Scan:
    """A submission's units, their findings and references; answers "what does X reach"."""

    def __init__(self, units: list[_Unit], extra: dict[str, list[Finding]] | None = None) -> None:
        self._units = units
        self._extra = extra or {}
        self._by_owner: dict[str, list[int]] = {}
        for i, unit in enumerate(units):
            for owner in unit.owners:
                self._by_owner.setdefault(owner, []).append(i)
        # x -> the functions that rebind it with `global x`
        self._globals: dict[str, set[str]] = {}
        for unit in units:
            for name in unit.declared_global:
                self._globals.setdefault(name, set()).update(unit.owners)
        self._reach: dict[str, dict[str, Finding]] = {}
        self._derived: dict[tuple[tuple[str, int], ...], Scan] = {}
        kinds = (f for u in units for f in u.findings.values())
        self.tampering = _first_per_name(
            [*kinds, *(f for fs in self._extra.values() for f in fs)], "tampering"
        )

    def binds(self, name: str) -> bool:
        return name in self._by_owner

    def reaching(self, name: str) -> dict[str, Finding]:
        """Every finding ``name``'s code reaches, one per finding name (its first line)."""
        found = self._reach.get(name)
        if found is not None:
            return found
        start = [name] if name == MODULE or self.binds(name) else [MODULE, "__getattr__"]
        found = {}
        seen_names = set(start)
        seen_units: set[int] = set()
        stack = list(start)
        while stack:
            current = stack.pop()
            for finding in self._extra.get(current, ()):
                _keep(found, finding)
            for i in self._by_owner.get(current, ()):
                if i in seen_units:
                    continue
                seen_units.add(i)
                unit = self._units[i]
                for finding in unit.findings.values():
                    _keep(found, finding)
                for ref in unit.refs:
                    if ref not in seen_names:
                        seen_names.add(ref)
                        stack.append(ref)
            for rebinder in self._globals.get(current, ()):
                if rebinder not in seen_names:
                    seen_names.add(rebinder)
                    stack.append(rebinder)
        self._reach[name] = found
        return found

    def owners_at(self, line: int) -> list[str]:
        """The names owning the module-level code on ``line`` (the innermost unit)."""
        best: _Unit | None = None
        for unit in self._units:
            if unit.start <= line <= unit.end and (
                best is None or unit.end - unit.start < best.end - best.start
            ):
                best = unit
        return list(best.owners) if best is not None else [MODULE]

    def with_import_findings(self, violations: Iterable[tuple[str, int]]) -> Scan:
        """This scan plus what the worker's guard saw at import time, each call attributed to
        the names its module-level statement binds (else to ``<module>``)."""
        key = tuple(sorted(set(violations)))
        if not key:
            return self
        derived = self._derived.get(key)
        if derived is None:
            extra: dict[str, list[Finding]] = {k: list(v) for k, v in self._extra.items()}
            for name, line in key:
                for owner in self.owners_at(line) if line > 0 else [MODULE]:
                    extra.setdefault(owner, []).append(Finding(name, line, owner, "runtime"))
            derived = self._derived[key] = Scan(self._units, extra)
        return derived


def _keep(found: dict[str, Finding], finding: Finding) -> None:
    """Keep one finding per name: the first line, what the source shows before what ran."""
    old = found.get(finding.name)
    if old is None or _order(finding) < _order(old):
        found[finding.name] = finding


def _order(finding: Finding) -> tuple[int, bool, str]:
    return (finding.line, finding.kind == "runtime", finding.owner)


def _first_per_name(findings: Iterable[Finding], kind: str) -> list[Finding]:
    found: dict[str, Finding] = {}
    for f in findings:
        if f.kind == kind or (f.kind == "runtime" and kind == "tampering" and _tampering(f)):
            _keep(found, f)
    return sorted(found.values(), key=lambda f: (f.line, f.name))


def _tampering(finding: Finding) -> bool:
    return finding.kind == "tampering" or apis.is_tampering(finding.name)


def scan(source: str) -> Scan | None:
    """The scan of a module's source; None on syntax errors."""
    try:
        tree = pysource.parse(source)
    except SyntaxError:
        return None
    return scan_tree(tree)


def scan_tree(tree: ast.Module) -> Scan:
    """``scan`` of an already parsed module."""
    units = _units(tree)
    aliases, star = _module_aliases(units)
    by_name: dict[str, list[ast.ClassDef]] = {}
    for unit in units:
        node = unit.nodes[0]
        if isinstance(node, ast.ClassDef):
            by_name.setdefault(node.name, []).append(node)
    own_functions = frozenset(o for u in units for o in u.owners)
    walker = _Walker(aliases, own_functions, _Classes(by_name), {})
    for unit in units:
        walker.run(unit)
        walrus = [n for n in dict.fromkeys(unit.walrus) if n not in unit.owners]
        if walrus:
            unit.owners = walrus if unit.fallback else unit.owners + walrus
            for name, finding in unit.findings.items():  # the first owner names the finding
                unit.findings[name] = Finding(name, finding.line, unit.owners[0], finding.kind)
    bound_names = {o for u in units for o in u.owners}
    if "__name__" in bound_names:  # the file can make its __main__ block run: it is module code
        for unit in units:
            unit.owners = [MODULE if o == _NOT_RUN else o for o in unit.owners]
    import_names = {
        o for u in units if isinstance(u.nodes[0], (ast.Import, ast.ImportFrom)) for o in u.owners
    }
    # names resolved as import aliases are judged where they are used, not referenced
    bound = bound_names - (import_names - _rebound(units, import_names))
    for unit in units:
        for name, line in unit.loaded.items():
            if name in bound:
                unit.refs.add(name)
            elif star and name not in _BUILTINS and name not in aliases:
                # from torch import *: any free name may be torch's
                walker.unit = unit
                walker.use(f"torch.{name}", line)
        unit.loaded = {}
    return Scan(units)


def _rebound(units: list[_Unit], import_names: set[str]) -> set[str]:
    """Import names that some non-import statement also binds (``F = ...`` after an import)."""
    return {
        o
        for u in units
        if not isinstance(u.nodes[0], (ast.Import, ast.ImportFrom))
        for o in u.owners
        if o in import_names
    }


# -- what a task's checks pay -------------------------------------------------------------------


def _check_symbols(check: Any) -> list[str]:
    symbol = getattr(check, "symbol", None)
    return [symbol] if symbol else sorted(set(getattr(check, "components", {}).values()))


def _charged(scan: Scan | None, symbols: list[str], patterns: apis.Patterns) -> list[Finding]:
    if scan is None:
        return []
    found: dict[str, Finding] = {}
    for start in [*symbols, MODULE]:
        for finding in scan.reaching(start).values():
            if finding.kind in ("dynamic",) or (
                finding.kind in ("api", "runtime") and patterns.match(finding.name)
            ):
                _keep(found, finding)
    return sorted(found.values(), key=lambda f: (f.line, f.name))


def forbidden_uses(scan: Scan | None, symbols: list[str], forbid: list[str]) -> list[Finding]:
    """Findings in ``symbols`` (what they reach, and import-time code) that ``forbid`` covers,
    tampering anywhere in the file included."""
    patterns = apis.Patterns(forbid)
    if not patterns or scan is None:
        return []
    found = {f.name: f for f in _charged(scan, symbols, patterns)}
    for finding in scan.tampering:
        found.setdefault(finding.name, finding)
    return sorted(found.values(), key=lambda f: (f.line, f.name))


def charges(
    scan: Scan | None,
    task: Task,
    runtime: dict[str, list[str]],
    execution: Execution | None = None,
) -> dict[str, list[Finding]]:
    """Check id -> the findings that cost that check its points (checks not listed pay nothing).

    A check pays for what its symbol (or, for a benchmark, any of its components) reaches and
    for import-time code, when the task forbids it; for what the worker's guard saw while that
    check's probes ran (``runtime``: check id -> names); and, in every task that forbids
    anything, for any tampering in the file or seen by the guard in any probe of ``execution``.
    ``execution`` also carries what the guard saw at import (``import_violations``).
    """
    patterns = apis.Patterns(list(task.forbid))
    if not patterns:
        return {}
    import_violations = list(getattr(execution, "import_violations", ()))
    runtime_tampering = [
        name
        for probe in getattr(execution, "probes", {}).values()
        for name in probe.violations
        if apis.is_tampering(name)
    ]
    if scan is not None:
        scan = scan.with_import_findings(import_violations)
    tampering = list(scan.tampering) if scan is not None else []
    tampering += [Finding(name, 0, MODULE, "runtime") for name in dict.fromkeys(runtime_tampering)]
    if scan is None:
        tampering += [
            Finding(name, line, MODULE, "runtime")
            for name, line in import_violations
            if apis.is_tampering(name)
        ]
    out: dict[str, list[Finding]] = {}
    for check in task.checks:
        found = _charged(scan, _check_symbols(check), patterns)
        seen = {f.name for f in found}
        for name in runtime.get(check.id, []):
            # a guard left on in a student's thread may report another task's names: not ours
            if name not in seen and (patterns.match(name) or apis.is_tampering(name)):
                seen.add(name)
                found.append(Finding(name, 0, check.id, "runtime"))
        if scan is None:
            for name, line in import_violations:
                if name not in seen and patterns.match(name):
                    seen.add(name)
                    found.append(Finding(name, line, MODULE, "runtime"))
        found += [f for f in tampering if f.name not in seen]
        if found:
            out[check.id] = found
    return out


def message(findings: list[Finding]) -> str:
    """What a student reads for a check that a forbidden call cost its points: what the source
    shows first (the worker's report only when the source shows nothing)."""
    tampering = [f for f in findings if _tampering(f)]
    chosen = tampering or findings
    static = [f for f in chosen if f.kind != "runtime"]
    runtime = [f for f in chosen if f.kind == "runtime"]
    parts = []
    if static:
        parts.append("uses " + ", ".join(f.describe() for f in static[:_SHOWN]))
    if runtime and (tampering or not static):
        parts.append("called " + ", ".join(_describe(f) for f in runtime[:_SHOWN]))
    if tampering:
        return (
            f"tampers with the grader's forbidden-API guard: {'; '.join(parts)}. A file that "
            "does scores 0 in every task that forbids an API"
        )
    return "; ".join(parts) + ", which this task forbids"


def _describe(finding: Finding) -> str:
    if finding.line > 0:
        return f"{apis.display(finding.name)} at import (line {finding.line})"
    return f"{apis.display(finding.name)} while running"


def iter_findings(scan: Scan) -> Iterator[Finding]:
    """Every finding of every unit (for tools and tests)."""
    for unit in scan._units:
        yield from unit.findings.values()
