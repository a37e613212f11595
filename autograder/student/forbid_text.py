"""A task's forbidden-API list in the words students read: the template, the kit README and
``autograder describe`` all say it this way.

A spec's ``forbid`` entry is an op family (``softmax``: every route to it), a qualified name
(``torch.clamp``) or a prefix (``torch.nn.functional.*``). ``summary`` says the list in one
sentence; ``routes`` lists the public names one entry stands for, as ``wire/apis.py`` expands
it for the grader (private ``torch._C`` names and the like are left out: they reach the same
operation and are forbidden too).
"""

from __future__ import annotations

from collections.abc import Iterable

from autograder.wire import apis

# Said once after the list: a family is forbidden whatever the spelling.
ANY_ROUTE = (
    "by any route: the torch function, the Tensor method, the functional, the nn module, "
    "aliases, getattr or eval"
)


def _short(name: str) -> str:
    if name.startswith("F."):
        name = "torch.nn.functional." + name[2:]
    return name.replace("torch.Tensor.", "Tensor.")


def _entry(entry: str) -> str:
    entry = entry.strip()
    if entry.endswith("*"):
        return f"anything in {_short(entry.rstrip('*').rstrip('.'))}"
    return _short(entry)


def summary(entries: Iterable[str], *, short: bool = False) -> str:
    """``sigmoid, tanh (by any route: ...); anything in torch.special; torch.clamp``; "" when
    nothing is forbidden. ``short`` says "(any route)" instead of naming the routes."""
    entries = [e.strip() for e in entries if e.strip()]
    families = [e for e in entries if "." not in e]
    names = [_entry(e) for e in entries if "." in e]
    routes_said = "any route" if short else ANY_ROUTE
    parts = [f"{', '.join(families)} ({routes_said})"] if families else []
    parts += names
    return "; ".join(parts)


def routes(entry: str) -> list[str]:
    """The public names ``entry`` forbids, sorted (``torch.softmax``, ``Tensor.softmax``, ...)."""
    if entry.strip().endswith("*"):
        return [_entry(entry)]
    # the dispatcher's op names (torch.ops.aten.*) are covered, but they are the grader's
    # guesses at every variant of an op, not names to show a student
    names = [n for n in apis.expand(entry) if not n.startswith("torch.ops.")]
    shown = {_short(apis.display(name)) for name in names}
    public = [n for n in shown if not any(part.startswith("_") for part in n.split("."))]
    return sorted(public) or [_short(entry.strip())]  # a private name forbidden by name


def union(lists: Iterable[Iterable[str]]) -> list[str]:
    """The entries of several forbid lists, each once, in first-seen order."""
    seen: dict[str, None] = {}
    for entries in lists:
        for entry in entries:
            seen.setdefault(entry.strip(), None)
    return [entry for entry in seen if entry]
