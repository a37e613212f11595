"""The package's import rules, read from its source with ``ast``: the folders tell the story.

- ``untrusted/`` (where student code runs) imports nothing of ours but ``wire/``, the
  sandbox layers it applies to itself and the scratch deletion routine (``tempdirs``);
- ``trusted/checks`` (pure comparison) reaches neither the worker supervisor nor ``sandbox/``;
- ``views/``, ``export/`` and ``final/`` never reach the engine, the workers or the sandbox;
- ``trusted/`` never reaches the TA's folder intake, the student kit, views or commands: the
  engine grades bytes, and paths are the caller's business;
- ``spec/`` and ``wire/`` import no torch-side code of ours;
- and there is no import cycle, function-local imports included.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_package(name: str) -> bool:
    return _modules()[name].name == "__init__.py"


@cache
def _imports(name: str) -> frozenset[str]:
    """Our modules that ``name`` imports anywhere in its body (function-local imports too).

    ``from pkg import x`` counts as importing ``pkg.x`` when ``x`` is a module, else ``pkg``.
    """
    modules = _modules()
    tree = ast.parse(modules[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "autograder")
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                package = name if _is_package(name) else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{node.module}"
            if base.split(".")[0] != "autograder":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
    return frozenset(m for m in found if m in modules and m != name)


def _reach(name: str) -> set[str]:
    """Every module ``name`` imports, directly or through others (package inits included)."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        for dep in _imports(stack.pop()):
            # importing a.b.c runs a/__init__ and a/b/__init__ first
            parents = [".".join(dep.split(".")[:i]) for i in range(2, dep.count(".") + 1)]
            for target in [*parents, dep]:
                if target in _modules() and target not in seen:
                    seen.add(target)
                    stack.append(target)
    return seen


def _under(prefix: str) -> list[str]:
    return sorted(m for m in _modules() if m == prefix or m.startswith(prefix + "."))


# Sandbox modules a worker applies to itself (and the package init that re-exports them).
_WORKER_SANDBOX = {
    "autograder.sandbox",
    "autograder.sandbox.layers",
    "autograder.sandbox.landlock",
    "autograder.sandbox.scratch",
    "autograder.sandbox.seccomp",
    "autograder.sandbox.uid",
}


# The zygote empties its workers' scratch with the grader's own deletion routine (a stdlib-only
# module that imports nothing of ours).
_WORKER_SHARED = {"autograder.tempdirs"}


@pytest.mark.parametrize("module", _under("autograder.untrusted"))
def test_untrusted_imports_only_wire_and_its_own_layers(module: str) -> None:
    allowed = ("autograder.untrusted", "autograder.wire")
    bad = sorted(
        m
        for m in _imports(module)
        if not m.startswith(allowed) and m not in _WORKER_SANDBOX | _WORKER_SHARED
    )
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", _under("autograder.trusted.checks"))
def test_checks_reach_neither_the_supervisor_nor_the_sandbox(module: str) -> None:
    bad = sorted(
        m
        for m in _reach(module)
        if m.startswith(("autograder.sandbox", "autograder.untrusted"))
        or m in ("autograder.trusted.supervisor", "autograder.trusted.execute")
    )
    assert not bad, f"{module} reaches {bad}"


@pytest.mark.parametrize(
    "module",
    [*_under("autograder.views"), *_under("autograder.export"), *_under("autograder.final")],
)
def test_consumers_never_reach_the_engine(module: str) -> None:
    bad = sorted(
        m
        for m in _reach(module)
        if m.startswith(("autograder.trusted", "autograder.untrusted", "autograder.sandbox"))
    )
    assert not bad, f"{module} reaches {bad}"


@pytest.mark.parametrize("module", _under("autograder.trusted"))
def test_trusted_side_grades_bytes_not_folders(module: str) -> None:
    forbidden = (
        "autograder.batch",
        "autograder.student",
        "autograder.views",
        "autograder.commands",
        "autograder.export",
        "autograder.final",
        "autograder.cli",
    )
    # the course rubric is data the spec loader checks points against; nothing else of final/
    rubric = {"autograder.final", "autograder.final.rubric"}
    bad = sorted(m for m in _reach(module) if m.startswith(forbidden) and m not in rubric)
    assert not bad, f"{module} reaches {bad}"


@pytest.mark.parametrize("module", [*_under("autograder.spec"), *_under("autograder.wire")])
def test_spec_and_wire_stand_alone(module: str) -> None:
    bad = sorted(
        m
        for m in _reach(module)
        if m.startswith(("autograder.trusted", "autograder.untrusted", "autograder.sandbox"))
    )
    assert not bad, f"{module} reaches {bad}"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over direct imports, function-local ones too.

    A package's ``__init__`` importing its own submodules is not a cycle by itself; an edge
    from a submodule back to its package init counts only when the init re-exports it.
    """
    graph = {m: set(_imports(m)) for m in _modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        # iterative Tarjan: the package is deep enough for recursion to be a bad idea in tests
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, edges = work[-1]
            advanced = False
            for w in edges:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    assert not cycles, f"import cycles: {cycles}"


def test_top_level_holds_only_shared_contracts() -> None:
    """Everything else lives in a folder named for its role."""
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == [
        "__init__",
        "__main__",
        "cli",
        "csv_input",
        "errors",
        "hashing",
        "points",
        "report",
        "safe_text",
        "submission",
        "tempdirs",
        "version",
    ]


def test_worker_and_lane_processes_import_this_very_package() -> None:
    """A zygote or a lane puts the folder that holds ``autograder/`` first on its path: the
    package moved one level down once and they silently imported whatever tree the editable
    install pointed at."""
    from autograder.batch import lanes
    from autograder.spec import course
    from autograder.trusted import supervisor

    holder = str(PACKAGE.parent)
    assert supervisor._PACKAGE_PARENT == holder
    assert lanes._PACKAGE_PARENT == holder
    assert (Path(holder) / "autograder" / "__init__.py").is_file()
    assert Path(course.__file__).resolve().parents[2] == PACKAGE.parent
