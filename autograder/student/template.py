"""Student-facing files generated from a spec: the ``hw1.py`` template and the kit's README.

The template declares every symbol the assignment grades (hidden tasks included: a symbol is
interface, not test data) with the spec's signature and docstring, and every body raises
``NotImplementedError``, so an untouched template scores 0 with "not implemented" per task.
Classes get their base class and the methods the grader calls. Task ids appear only for public
tasks; the README gives hidden tasks as a count and points, nothing more.

What a task forbids is said where the student works: in its section header and in the
docstring of each symbol a public task forbids it for (``forbid_text``), and, with every route
spelled out, in the README and ``autograder describe``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from fractions import Fraction

from autograder.errors import SpecError
from autograder.spec.models import Assignment, SymbolDoc, Task
from autograder.student import forbid_text
from autograder.trusted import pysource

_WIDTH = 96


@dataclass
class _Symbol:
    name: str
    signature: str = ""
    doc: str = ""
    kind: str = "function"
    base: str = ""
    forward: str = ""


def points_text(value: Fraction) -> str:
    """``Fraction(3, 2)`` -> ``"1.5"``; non-terminating fractions as ``"2/3"``."""
    as_float = float(value)
    return (
        f"{as_float:g}"
        if Fraction(repr(as_float)) == value
        else f"{value.numerator}/{value.denominator}"
    )


def student_symbols(spec: Assignment) -> list[SymbolDoc]:
    """Every symbol of every task, once, in spec order; fields merged from all mentions."""
    merged: dict[str, _Symbol] = {}
    for task in spec.tasks:
        for doc in task.symbols:
            sym = merged.setdefault(doc.name, _Symbol(doc.name))
            sym.signature = sym.signature or doc.signature
            sym.doc = sym.doc or doc.doc
            sym.base = sym.base or doc.base
            sym.forward = sym.forward or doc.forward
            if doc.kind == "class":
                sym.kind = "class"
    return [
        SymbolDoc(
            name=s.name,
            signature=s.signature,
            doc=s.doc,
            kind=s.kind,
            base=s.base,
            forward=s.forward,
        )
        for s in merged.values()
    ]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _docstring(text: str, indent: str, forbid: list[str] = ()) -> str:
    paragraphs = [text.strip()]
    if forbid:
        paragraphs.append(f"You may not call: {forbid_text.summary(forbid, short=True)}.")
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += [""] if lines else []
        lines += textwrap.wrap(_escape(paragraph), _WIDTH - len(indent)) or [""]
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    body = f"\n{indent}".join(lines).replace(f"\n{indent}\n", "\n\n")
    return f'{indent}"""' + body + f'\n{indent}"""\n'


def symbol_forbids(spec: Assignment) -> dict[str, list[str]]:
    """Each symbol's forbidden APIs: the union over the public tasks that grade it."""
    lists: dict[str, list[list[str]]] = {}
    for task in spec.tasks:
        if task.visibility == "public":
            for doc in task.symbols:
                lists.setdefault(doc.name, []).append(task.forbid)
    return {name: forbid_text.union(found) for name, found in lists.items()}


def _with_self(signature: str, first: str) -> str:
    inner = signature.strip()[1:].lstrip() if signature.strip().startswith("(") else ")"
    return f"({first})" if inner.startswith(")") else f"({first}, {inner}"


def _method(name: str, signature: str, *, static: bool = False) -> str:
    head = "    @staticmethod\n" if static else ""
    return f"{head}    def {name}{signature}:\n        raise NotImplementedError\n"


def _class_source(sym: SymbolDoc, forbid: list[str]) -> str:
    base = sym.base or "object"
    parts = [
        f"class {sym.name}({base}):\n",
        _docstring(sym.doc or f"Implement {sym.name}.", "    ", forbid),
    ]
    if base.endswith("autograd.Function"):
        parts += ["\n", _method("forward", "(ctx, *args)", static=True)]
        parts += ["\n", _method("backward", "(ctx, *grad_outputs)", static=True)]
        return "".join(parts)
    parts += ["\n", _method("__init__", _with_self(sym.signature or "()", "self"))]
    if base.endswith("Module"):
        parts += ["\n", _method("forward", sym.forward or "(self, x)")]
    elif base.endswith("Optimizer"):
        parts += ["\n", "    @torch.no_grad()\n", _method("step", "(self, closure=None)")]
    return "".join(parts)


def _function_source(sym: SymbolDoc, forbid: list[str]) -> str:
    signature = sym.signature or "(*args, **kwargs)"
    doc = _docstring(sym.doc or f"Implement {sym.name}.", "    ", forbid)
    return f"def {sym.name}{signature}:\n{doc}    raise NotImplementedError\n"


def symbol_source(sym: SymbolDoc, forbid: list[str] = ()) -> str:
    """One symbol's stub, its docstring ending with what it may not call; ``SpecError`` if its
    signature or base is not valid Python."""
    forbid = list(forbid)
    source = _class_source(sym, forbid) if sym.kind == "class" else _function_source(sym, forbid)
    try:
        pysource.parse(source)
    except SyntaxError:
        what = f"base {sym.base!r}" if sym.kind == "class" else f"signature {sym.signature!r}"
        raise SpecError(
            f"symbol {sym.name!r}: {what} is not valid Python; cannot generate the template"
        ) from None
    return source


def _section(title: str, forbid: list[str] = ()) -> str:
    head = f"# --- {title} " + "-" * max(3, _WIDTH - 8 - len(title)) + "\n"
    if not forbid:
        return head
    lines = textwrap.wrap(f"You may not call: {forbid_text.summary(forbid)}.", _WIDTH - 2)
    return head + "".join(f"# {line}\n" for line in lines)


def render_template(spec: Assignment) -> str:
    """The student's ``student_file``: imports, then one stub per symbol, grouped by public task."""
    symbols = {s.name: s for s in student_symbols(spec)}
    forbids = symbol_forbids(spec)
    intro = (
        f"Your {spec.student_file}: replace every ``raise NotImplementedError`` with your code and "
        "keep the names and signatures."
    )
    paragraphs = [spec.title, *spec.description.strip().split("\n\n"), intro]
    text = "\n\n".join(textwrap.fill(" ".join(p.split()), _WIDTH) for p in paragraphs if p.strip())
    out = ['"""' + _escape(text) + '\n"""\n\n', "import torch\n"]
    if any(s.base.startswith("nn.") for s in symbols.values()):
        out += ["from torch import nn\n"]
    emitted: set[str] = set()
    for task in spec.tasks:
        names = [s.name for s in task.symbols if s.name not in emitted]
        if task.visibility != "public" or not names:
            continue
        title = f"{task.title} ({points_text(task.points)} points)"
        out += ["\n\n", _section(title, task.forbid)]
        for name in names:
            out += ["\n\n", symbol_source(symbols[name], forbids.get(name, []))]
            emitted.add(name)
    rest = [name for name in symbols if name not in emitted]
    if rest:
        out += ["\n\n", _section("Also graded, by tests that run on the course server")]
        out += [
            part
            for name in rest
            for part in ("\n\n", symbol_source(symbols[name], forbids.get(name, [])))
        ]
    source = "".join(out)
    pysource.parse(source)  # every piece parsed on its own; the whole must too
    return source


def _task_row(task: Task, local: bool) -> str:
    checked = "yes" if local else "no: runs on the course server"
    forbid = forbid_text.summary(task.forbid).replace("|", "\\|") or "-"
    return f"| `{task.id}` | {task.title} | {points_text(task.points)} | {checked} | {forbid} |"


def _forbid_section(public: Assignment) -> list[str]:
    """Every public task's forbidden names, route by route."""
    tasks = [t for t in public.tasks if t.forbid]
    if not tasks:
        return []
    lines = [
        "## What you may not call",
        "",
        "A task's code may not use these, whatever the spelling: each entry stands for every "
        "route below (and the private torch names behind them). Calling one loses points even "
        "where the answer is right.",
        "",
    ]
    for task in tasks:
        lines += [f"- `{task.id}`:"]
        for entry in task.forbid:
            lines += [f"  - `{entry}`: " + ", ".join(f"`{r}`" for r in forbid_text.routes(entry))]
    return [*lines, ""]


def render_readme(
    spec: Assignment,
    public: Assignment,
    *,
    server_only: set[str],
    hidden_count: int,
    hidden_points: Fraction,
    version: str,
) -> str:
    """The kit's README: the assignment, its public tasks and points, how to check and submit."""
    f = spec.student_file
    lines = [f"# {spec.title}", "", spec.description.strip(), "", "## Files", ""]
    lines += [
        f"- `{f}`: the template. Every function and class raises `NotImplementedError` until you write it.",
        "- `kit/`: the public checks: inputs and the expected results as data files (no solution code), "
        "with a manifest of their hashes. Do not edit it: `check` refuses a modified kit.",
        "",
        "## Check your work",
        "",
        "```",
        f"pip install autograder=={version}",
        f"autograder check {spec.id} {f} --kit .",
        "```",
        "",
        "Run it from this folder (or pass the kit folder's path to `--kit`). It grades the public tasks "
        "below exactly as the course server does; the untouched template scores 0.",
        "",
        "## Tasks",
        "",
        "| Task | What | Points | Checked by this kit | You may not call |",
        "|---|---|---|---|---|",
    ]
    lines += [_task_row(t, t.id not in server_only) for t in public.tasks]
    lines += [""]
    lines += _forbid_section(public)
    if server_only:
        lines += [
            "Tasks marked *no* train on held-out data whose labels a kit cannot contain; the course "
            "server grades them after you submit. The kit shows them as skipped.",
            "",
        ]
    if hidden_count:
        tasks = "task" if hidden_count == 1 else "tasks"
        lines += [
            f"Besides these, {hidden_count} hidden {tasks} worth {points_text(hidden_points)} points "
            f"test the same functions and classes on inputs you do not see; they are graded on the "
            f"course server. Total: {points_text(spec.points)} points.",
            "",
        ]
    lines += ["## What to implement", ""]
    for sym in student_symbols(spec):
        what = f"class `{sym.name}{sym.signature}`" + (f" ({sym.base})" if sym.base else "")
        if sym.kind != "class":
            what = f"`{sym.name}{sym.signature}`"
        lines += [f"- {what}: {sym.doc}".rstrip(": ")]
    lines += [
        "",
        "## Submit",
        "",
        "```",
        f"autograder submit {spec.id} {f} --student-id YOUR_ID --to SUBMISSION_FOLDER --kit .",
        "```",
        "",
        "It runs the public checks first and refuses a file that does not even import (pass "
        "`--force` to submit it anyway). Every submission is kept as a separate attempt.",
        "",
    ]
    return "\n".join(lines)
