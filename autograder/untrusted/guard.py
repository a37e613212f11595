"""Runtime detection of forbidden torch APIs while student code runs (untrusted side).

Two recorders are active only around calls into student code:

* a profile hook (``sys.setprofile``) that sees every Python function and builtin called,
  whatever name the student reached it by (an alias, ``getattr`` with a computed name, a
  module class), matched by code object or by builtin identity;
* a ``TorchFunctionMode`` that sees torch functions by their resolved name.

This is the second line of defence: it runs in the student's process, so a hostile student can
switch it off. The trusted side's AST scan (``forbidden.py``) is the first line and cannot be.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import Any

from torch.overrides import TorchFunctionMode, resolve_name

from autograder.wire import apis


class ForbiddenAPIError(Exception):
    """Raised inside student code when it calls a forbidden API."""


_MODULE_PREFIX = {
    "torch._C._VariableFunctions": "torch",
    "torch._C._nn": "torch._C._nn",
    "torch._C._special": "torch._C._special",
    "torch._C._linalg": "torch.linalg",
}


def _resolve(qualified: str) -> Any:
    parts = qualified.split(".")
    # the longest importable prefix first: torch.optim.adam is a module, but the attribute
    # ``adam`` of torch.optim is the function torch.optim.adam.adam
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _code_objects(obj: Any) -> list[types.CodeType]:
    """Code objects whose execution means ``obj`` was used (functions, class methods)."""
    if isinstance(obj, types.FunctionType):
        # a decorator's wrapper code is shared by every function it wraps (torch.optim's
        # functional optimizers all run one ``maybe_fallback``): watch the wrapped function
        obj = getattr(obj, "__wrapped__", obj)
        return [obj.__code__] if isinstance(obj, types.FunctionType) else []
    if isinstance(obj, type):
        codes = []
        for attr in ("__init__", "forward", "step", "__call__"):
            method = obj.__dict__.get(attr)
            # decorators share one wrapper code object among many classes: use the wrapped one
            method = getattr(method, "__wrapped__", method)
            if isinstance(method, types.FunctionType):
                codes.append(method.__code__)
        return codes
    return []


class _Watch:
    """What a forbid list means at runtime: names, code objects and builtins to watch for."""

    def __init__(self, forbid: tuple[str, ...]) -> None:
        self.forbidden = apis.expand_all(list(forbid))
        self.codes: dict[types.CodeType, str] = {}
        self.builtins: dict[int, str] = {}
        for name in self.forbidden:
            if name.endswith(".*"):
                module = _resolve(name[:-2])
                if isinstance(module, types.ModuleType):
                    for attr, value in vars(module).items():
                        # only what the module defines, not helpers it imported (typing.cast...)
                        if getattr(value, "__module__", None) != module.__name__:
                            continue
                        for code in _code_objects(value):
                            self.codes.setdefault(code, f"{name[:-2]}.{attr}")
                continue
            obj = _resolve(name)
            if obj is None:
                continue
            for code in _code_objects(obj):
                self.codes.setdefault(code, name)
            if isinstance(obj, types.BuiltinFunctionType):
                self.builtins[id(obj)] = name


# forbid list -> its _Watch; the zygote fills it (``prepare``) so children need not rebuild them
_WATCHES: dict[tuple[str, ...], _Watch] = {}


def prepare(forbid: list[str] | tuple[str, ...]) -> _Watch:
    """The watch list for ``forbid``, built on first use (a few ms; no torch op runs)."""
    key = tuple(forbid)
    if key not in _WATCHES:
        _WATCHES[key] = _Watch(key)
    return _WATCHES[key]


class Guard:
    """Records (and raises on) forbidden calls while active. Use as a context manager."""

    def __init__(self, forbid: list[str]) -> None:
        watch = prepare(forbid)
        self.forbidden = watch.forbidden
        self.violations: list[str] = []
        # shared with other guards of the same list: read here, never written
        self._codes = watch.codes
        self._builtins = watch.builtins
        self._mode = _Mode(self) if self.forbidden else None
        self._depth = 0
        self._prefixes = tuple(p[:-1] for p in self.forbidden if p.endswith(".*"))
        self._verdicts: dict[str, bool] = {}
        # module-level builtins (long-lived objects) -> the forbidden name they stand for, or None
        self._module_builtins: dict[Any, str | None] = {}

    def _hit(self, name: str) -> None:
        if name not in self.violations:
            self.violations.append(name)
        raise ForbiddenAPIError(f"forbidden API {apis.display(name)}")

    def _is_forbidden(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            verdict = self._verdicts[name] = name in self.forbidden or name.startswith(
                self._prefixes
            )
        return verdict

    def check_name(self, name: str | None) -> None:
        if name and self._is_forbidden(name):
            self._hit(name)

    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        # Called for every Python call and builtin call while the guard is on: keep it cheap.
        if event == "call":
            name = self._codes.get(frame.f_code)
            if name is not None:
                self._hit(name)
        elif event == "c_call":
            name = self._builtins.get(id(arg))
            if name is not None:
                self._hit(name)
            owner = getattr(arg, "__self__", None)
            # Tensor methods are left to the TorchFunctionMode, which sees every one of them
            # (operators included) by its resolved name; naming them here too doubled the cost.
            if isinstance(owner, types.ModuleType):
                try:
                    name = self._module_builtins[arg]
                except KeyError:
                    prefix = _MODULE_PREFIX.get(owner.__name__, owner.__name__)
                    qualified = f"{prefix}.{getattr(arg, '__name__', '')}"
                    name = self._module_builtins[arg] = (
                        qualified if self._is_forbidden(qualified) else None
                    )
                except TypeError:  # unhashable
                    return
                if name is not None:
                    self._hit(name)

    def __enter__(self) -> Guard:
        if not self.forbidden:
            return self
        self._depth += 1
        if self._depth == 1:
            # the mode first and the hook last (and the reverse on exit): the hook need not
            # profile torch's own mode-stack code on every guarded call
            self._mode.__enter__()
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.forbidden:
            return
        self._depth -= 1
        if self._depth == 0:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
            self._mode.__exit__(None, None, None)


def _resolve_name(func: Any) -> str | None:
    try:
        return resolve_name(func)
    except Exception:
        return None


# torch function -> its resolved name, shared by every guard in the process. resolve_name wraps
# each call in warnings.catch_warnings (a dozen Python calls, each seen by the profile hook).
_NAMES: dict[Any, str | None] = {}


def warm_names() -> None:
    """Resolve every overridable torch function's name now (~15 ms, no torch op runs).

    The zygote calls this before it forks: each child then starts with the names resolved
    instead of resolving them again, under the profile hook, on its first calls.
    """
    from torch.overrides import get_overridable_functions

    for functions in get_overridable_functions().values():
        for func in functions:
            try:
                _NAMES[func] = _resolve_name(func)
            except TypeError:  # an unhashable callable
                continue


class _Mode(TorchFunctionMode):
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard
        self._hook = guard._profile

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        # The profile hook need not see this method's own calls, nor what runs inside a torch
        # function the mode has allowed: with both on, every op was profiled through this
        # Python code too, which tripled the cost of guarded code (Homework 1's optimizers).
        # Switched off first thing, and back to the guard's own hook after (the mode is on
        # only while the guard is, so that is the hook to restore, whatever the student set).
        sys.setprofile(None)
        try:
            try:
                name = _NAMES[func]
            except KeyError:
                name = _NAMES[func] = _resolve_name(func)
            except TypeError:  # an unhashable callable
                name = _resolve_name(func)
            self.guard.check_name(name)
            return func(*args, **(kwargs or {}))
        finally:
            sys.setprofile(self._hook)
