"""Runtime detection of forbidden torch APIs while student code runs (untrusted side).

Three recorders are active around every call into student code, and while the file is imported:

* a profile hook (``sys.setprofile``, and ``threading.setprofile`` for threads the student
  starts) that sees every Python function and builtin called, whatever name the student reached
  it by (an alias, ``getattr`` with a computed name, a module class), matched by code object or
  by builtin identity; it also sees the student's own calls that would switch the guard off
  (``sys.setprofile``, popping torch's mode stacks, ``gc.get_objects``, ...);
* a ``TorchFunctionMode`` that sees torch functions by their resolved name, ``torch.ops.aten.*``
  and ``torch._C`` namespaces included;
* a ``TorchDispatchMode`` that sees the dispatcher's own ops (``aten::_softmax``) inside what
  the function mode let through: a function made of other ops (``torch.gru_cell``, a
  functional, ``torch.where``) and every call that runs the student's code again (``backward``
  and so a custom Function's backward, ``autograd.grad``, ``apply_``, a student's Tensor
  subclass). A function that is one op of its own (most Tensor methods, the operators) was
  named already: with the dispatch mode on around those too, the guard cost twice as much.

With ``torch._C.DisableTorchFunction`` the function mode sees nothing: the hook then finds the
region on the next Tensor method or ``torch.ops`` call and reports it (a torch function by name
is caught by the hook anyway). TorchScript runs its ops in C++: compiling is refused by the
scan, and only its Python entry points (``torch.jit.script``, ``torch.compile``, ...) are seen
here.

At each guard exit the guard checks its own state: its profile hook still installed, its modes
still on torch's stacks; a change is reported as tampering (and the state restored). This is the
second line of defence: it runs in the student's process, so a student who reaches the worker's
objects can defeat it. Every way to reach them that is written in the source (``sys``, ``gc``,
frames, ``ctypes``, ``autograder``) is a tampering finding of the trusted side's AST scan
(``forbidden.py``), which the student cannot switch off.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import types
from typing import Any

import torch
from torch._C import (
    _get_function_stack_at,
    _is_torch_function_all_disabled,
    _len_torch_dispatch_stack,
    _len_torch_function_stack,
    _pop_torch_dispatch_stack,
    _pop_torch_function_stack,
    _push_on_torch_dispatch_stack,
    _push_on_torch_function_stack,
)
from torch.overrides import TorchFunctionMode, resolve_name
from torch.utils._python_dispatch import TorchDispatchMode

from autograder.wire import apis

# Held here, not looked up on ``sys`` at each use: a student who replaces sys.setprofile does
# not replace the guard's.
_setprofile = sys.setprofile
_getprofile = sys.getprofile
_thread_setprofile = threading.setprofile
_getframe = sys._getframe


class ForbiddenAPIError(Exception):
    """Raised inside student code when it calls a forbidden API."""


_MODULE_PREFIX = {
    "torch._C._VariableFunctions": "torch",
    "torch._C._nn": "torch._C._nn",
    "torch._C._special": "torch._C._special",
    "torch._C._linalg": "torch.linalg",
}

# Builtins and functions whose call from the student's file switches the guard off or reaches
# the worker's objects (judged only when the caller is the student's file: torch and the
# standard library call some of them for their own reasons).
_TAMPER_CALLS = (
    "sys.setprofile",
    "sys.settrace",
    "sys.getprofile",
    "sys._getframe",
    "sys._current_frames",
    "threading.setprofile",
    "threading.settrace",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "inspect.stack",
    "inspect.currentframe",
    "inspect.getouterframes",
    "traceback.walk_stack",
    "torch._C._pop_torch_function_stack",
    "torch._C._pop_torch_dispatch_stack",
    "torch._C._push_on_torch_function_stack",
    "torch._C._push_on_torch_dispatch_stack",
    "torch._C._set_torch_function_state",
    "torch._C._set_dispatch_mode",
    "torch._C._unset_dispatch_mode",
    "torch.overrides._pop_mode_temporarily",
    "torch.utils._python_dispatch._pop_mode_temporarily",
    "torch.utils._python_dispatch._disable_current_modes",
)


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
        if not self.forbidden:
            return
        for name in sorted(self.forbidden):
            if name in _COMPILE_PREFIXES:
                # torch's own code asks torch.compiler.is_compiling() and the like on every
                # optimizer step: only the entry points listed by name are watched
                continue
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
            if name.endswith("*") or name.startswith("torch.ops."):
                continue  # matched by name (function mode, dispatch mode, module builtins)
            self._add(name)
        for name in _TAMPER_CALLS:
            self._add(name)
        for cls in (torch._ops.OpOverload, torch._ops.OpOverloadPacket):
            self.codes[cls.__call__.__code__] = _OP_CALL

    def _add(self, name: str) -> None:
        obj = _resolve(name)
        if obj is None:
            return
        for code in _code_objects(obj):
            self.codes.setdefault(code, name)
        if isinstance(obj, types.BuiltinFunctionType):
            self.builtins.setdefault(id(obj), name)

    @classmethod
    def union(cls, watches: list[_Watch]) -> _Watch:
        """One watch for several forbid lists (the import runs under all of them at once)."""
        merged = cls(())
        for watch in watches:
            merged.forbidden |= watch.forbidden
            for code, name in watch.codes.items():
                merged.codes.setdefault(code, name)
            for key, name in watch.builtins.items():
                merged.builtins.setdefault(key, name)
        return merged


_COMPILE_PREFIXES = frozenset(n for n in apis.COMPILE if n.endswith("*"))
# forbid list -> its _Watch; the zygote fills it (``prepare``) so children need not rebuild them
_WATCHES: dict[tuple[str, ...], _Watch] = {}
_TAMPER_NAMES = frozenset(_TAMPER_CALLS)
# marks the code of torch.ops' __call__ in a watch: not forbidden, a place to check the state
_OP_CALL = "<torch.ops call>"
_CONTEXTLIB = contextlib.__file__


def prepare(forbid: list[str] | tuple[str, ...]) -> _Watch:
    """The watch list for ``forbid``, built on first use (a few ms; no torch op runs)."""
    key = tuple(forbid)
    if key not in _WATCHES:
        _WATCHES[key] = _Watch(key)
    return _WATCHES[key]


def prepare_union(forbid_lists: list[list[str]]) -> tuple[str, ...]:
    """Prepare the watch for all of ``forbid_lists`` together; returns its key for ``Guard``."""
    key = tuple(sorted({e for forbid in forbid_lists for e in forbid}))
    if key not in _WATCHES:
        _WATCHES[key] = _Watch.union([prepare(f) for f in forbid_lists if f])
    return key


class Guard:
    """Records forbidden calls while active, and raises on them (unless ``record_only``: the
    import, where each call is kept with the line of the module-level statement that made it).
    Use as a context manager. ``source`` is the student's file name: calls that switch the
    guard off count only when made from it."""

    def __init__(
        self,
        forbid: list[str] | tuple[str, ...],
        *,
        source: str | None = None,
        record_only: bool = False,
    ) -> None:
        watch = prepare(forbid)
        self.forbidden = watch.forbidden
        self.violations: list[str] = []
        # record_only: (name, line of the module-level statement running, 0 if none)
        self.import_calls: list[tuple[str, int]] = []
        self.source = source
        self.record_only = record_only
        # shared with other guards of the same list: read here, never written
        self._codes = watch.codes
        self._builtins = watch.builtins
        self._mode = _Mode(self) if self.forbidden else None
        self._dispatch = _DispatchMode(self) if self.forbidden else None
        self._depth = 0
        self._prefixes = tuple(p[:-1] for p in self.forbidden if p.endswith("*"))
        self._verdicts: dict[str, bool] = {}
        # module-level builtins (long-lived objects) -> the forbidden name they stand for, or None
        self._module_builtins: dict[Any, str | None] = {}
        # one bound-method object, so that ``sys.getprofile() is self._hook`` can be checked
        self._hook = self._profile
        self._thread_hook = self._thread_start
        self._raised = False
        self._alive = False
        self._stacks = (0, 0)

    def _hit(self, name: str) -> None:
        name = apis.normalise(name)
        if self.record_only:
            entry = (name, self._module_line())
            if entry not in self.import_calls:
                self.import_calls.append(entry)
            return
        if name not in self.violations:
            self.violations.append(name)
        self._raised = True
        raise ForbiddenAPIError(f"forbidden API {apis.display(name)}")

    def close(self) -> None:
        """The import is over: from now on this guard (still on in threads the import started)
        raises and keeps what it sees in ``violations``, for the worker to collect."""
        self.record_only = False

    def _tampered(self, name: str) -> None:
        """Record a change to the guard's state, found after the fact (nothing to raise into)."""
        if self.record_only:
            entry = (name, 0)
            if entry not in self.import_calls:
                self.import_calls.append(entry)
        elif name not in self.violations:
            self.violations.append(name)

    def _module_line(self) -> int:
        """The line of the student's module-level code now running (0 if none is on the stack)."""
        frame = _getframe(1)
        while frame is not None:
            code = frame.f_code
            if code.co_name == "<module>" and code.co_filename == self.source:
                return frame.f_lineno
            frame = frame.f_back
        return 0

    def _is_forbidden(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            normal = apis.normalise(name)
            verdict = self._verdicts[name] = normal in self.forbidden or normal.startswith(
                self._prefixes
            )
        return verdict

    def forbids(self, name: str) -> bool:
        """Whether this guard's task forbids ``name`` (a reported name, normalised or not)."""
        return bool(self.forbidden) and self._is_forbidden(name)

    def check_name(self, name: str | None) -> None:
        if name and self._is_forbidden(name):
            self._hit(name)

    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        # Called for every Python call and builtin call while the guard is on: keep it cheap.
        if event == "call":
            name = self._codes.get(frame.f_code)
            if name is not None:
                if name is _OP_CALL:
                    # torch.ops.*: the function mode sees it, unless switched off around it
                    if _is_torch_function_all_disabled():
                        self._hit("torch._C.DisableTorchFunction")
                elif name not in _TAMPER_NAMES or self._called_by_student(frame):
                    self._hit(name)
        elif event == "c_call":
            name = self._builtins.get(id(arg))
            if name is not None:
                if name not in _TAMPER_NAMES or frame.f_code.co_filename == self.source:
                    self._hit(name)
                elif arg is _setprofile:
                    self._alive = True  # the function mode handing over: the hook is on
                    return
            owner = getattr(arg, "__self__", None)
            # Tensor methods are left to the TorchFunctionMode, which sees every one of them
            # (operators included) by its resolved name; naming them here too doubled the cost.
            if isinstance(owner, torch.Tensor):
                if _is_torch_function_all_disabled():
                    # a Tensor method with the function mode switched off around it
                    self._hit("torch._C.DisableTorchFunction")
            elif isinstance(owner, types.ModuleType):
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

    def _called_by_student(self, frame: types.FrameType) -> bool:
        """Whether the student's file called the function running in ``frame`` (directly, or
        through a ``with`` on a generator-based context manager)."""
        caller = frame.f_back
        while caller is not None and caller.f_code.co_filename == _CONTEXTLIB:
            caller = caller.f_back
        return caller is not None and caller.f_code.co_filename == self.source

    def _thread_start(self, frame: types.FrameType, event: str, arg: Any) -> None:
        """The first event in a thread the student started: torch's mode stacks are per thread,
        so the guard's modes are pushed there too, then the usual hook takes over."""
        _push_on_torch_function_stack(self._mode)
        _setprofile(self._hook)
        self._profile(frame, event, arg)

    def __enter__(self) -> Guard:
        if not self.forbidden:
            return self
        self._depth += 1
        if self._depth == 1:
            self._raised = False
            self._stacks = (_len_torch_function_stack(), _len_torch_dispatch_stack())
            # the modes first and the hook last (and the reverse on exit): the hook need not
            # profile torch's own mode-stack code on every guarded call
            _push_on_torch_function_stack(self._mode)
            _thread_setprofile(self._thread_hook)
            _setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.forbidden:
            return
        self._depth -= 1
        if self._depth != 0:
            return
        hook = _getprofile()
        _setprofile(None)
        _thread_setprofile(None)  # type: ignore[arg-type]
        if hook is not self._hook and not self._raised:
            # (a hook that raised is unset by Python itself: that call was recorded already)
            self._tampered(apis.GUARD_HOOK_REMOVED)
        functions, dispatch = self._stacks
        if (
            _len_torch_function_stack() != functions + 1
            or _get_function_stack_at(functions) is not self._mode
        ):
            self._tampered(apis.GUARD_MODE_LEFT)
        if _len_torch_dispatch_stack() != dispatch:
            self._tampered(apis.GUARD_DISPATCH_LEFT)
        # back to the stacks as they were on entry, whatever the student left on them
        while _len_torch_function_stack() > functions:
            _pop_torch_function_stack()
        while _len_torch_dispatch_stack() > dispatch:
            _pop_torch_dispatch_stack(None)


def _resolve_name(func: Any) -> str | None:
    try:
        name = resolve_name(func)
    except Exception:
        name = None
    if name is None and hasattr(func, "_schema"):  # an op overload without a Python name
        name = "torch.ops." + str(func._schema.name).replace("::", ".")
    return name


# torch function -> its resolved name, shared by every guard in the process. resolve_name wraps
# each call in warnings.catch_warnings (a dozen Python calls, each seen by the profile hook).
_NAMES: dict[Any, str | None] = {}
# dispatcher op -> the forbidden name it stands for in a guard's list, per guard (see below)
_OPS: dict[Any, str] = {}
# torch function -> whether it is one op with its own kernel (see _is_primitive)
_PRIMITIVE: dict[Any, bool] = {}
_ATEN_OPS: dict[str, bool] = {}
# Calls that run the student's code again inside torch (a custom Function's backward, hooks,
# per-element callables): the dispatch mode and the hook stay on while they run.
_FOREIGN = frozenset(
    {
        torch.Tensor.backward,
        torch.autograd.backward,
        torch.autograd.grad,
        torch.Tensor.apply_,
        torch.Tensor.map_,
        torch.Tensor.map2_,
    }
)
_PLAIN = frozenset({torch.Tensor, torch.nn.Parameter})


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
                _PRIMITIVE[func] = _is_primitive(_NAMES[func])
            except TypeError:  # an unhashable callable
                continue


def _aten_ops() -> dict[str, bool]:
    """aten op name -> whether an overload of it is implemented out of other ops
    (CompositeImplicitAutograd): what those run goes through the dispatcher again."""
    composite: dict[str, bool] = {}
    has_kernel = torch._C._dispatch_has_kernel_for_dispatch_key
    for full in torch._C._dispatch_get_all_op_names():
        if full.startswith("aten::"):
            op = full[len("aten::") :].split(".")[0]
            composite[op] = composite.get(op, False) or has_kernel(
                full, "CompositeImplicitAutograd"
            )
    return composite


def _is_primitive(name: str | None) -> bool:
    """Whether a torch function is a single op of the dispatcher's with its own kernel (or an
    operator): once its name is allowed, nothing inside it needs a second look."""
    if name is None:
        return False
    if name.startswith("torch.Tensor."):
        op = name[len("torch.Tensor.") :]
    elif name.startswith("torch.") and name.count(".") == 1:
        op = name[len("torch.") :]
    else:
        return False
    if op.startswith("__"):  # arithmetic, comparisons, indexing
        return True
    if not _ATEN_OPS:
        _ATEN_OPS.update(_aten_ops())
    return _ATEN_OPS.get(op) is False


class _Mode(TorchFunctionMode):
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        # The profile hook need not see this method's own calls, nor what runs inside a torch
        # function the mode has allowed: with both on, every op was profiled through this
        # Python code too, which tripled the cost of guarded code (Homework 1's optimizers).
        # Likewise the dispatch mode is pushed only around a function made of other ops: one
        # that is an op of its own (most Tensor methods, operators) was named here already,
        # and with the mode on around those too the guard cost twice as much.
        # Switched off first thing, and back to the guard's own hook after (the mode is on
        # only while the guard is, so that is the hook to restore, whatever the student set).
        guard = self.guard
        guard._alive = False
        _setprofile(None)  # the hook, if still there, sees this call and says so (_profile)
        try:
            if not guard._alive and not guard._raised:
                # switched off by a route the hook could not see (a C function calling
                # sys.setprofile): still running, and charged
                guard._tampered(apis.GUARD_HOOK_REMOVED)
            try:
                name = _NAMES[func]
            except KeyError:
                name = _NAMES[func] = _resolve_name(func)
            except TypeError:  # an unhashable callable
                name = _resolve_name(func)
            guard.check_name(name)
            kwargs = kwargs or {}
            try:
                foreign = func in _FOREIGN
            except TypeError:
                foreign = True
            if foreign or (types and not _PLAIN.issuperset(types)):
                # the student's code runs again inside (a backward, a callback, a subclass's
                # __torch_function__): the hook and the dispatch mode watch it
                _setprofile(guard._hook)
                _push_on_torch_dispatch_stack(guard._dispatch)
                try:
                    return func(*args, **kwargs)
                finally:
                    _pop_torch_dispatch_stack(None)
            try:
                primitive = _PRIMITIVE[func]
            except KeyError:
                primitive = _PRIMITIVE[func] = _is_primitive(name)
            except TypeError:
                primitive = False
            if primitive:
                # one op with its own kernel, named and allowed above: nothing else to see
                return func(*args, **kwargs)
            # a composite function (torch.gru_cell, a functional, torch.where): the ops it
            # runs are checked by name too
            _push_on_torch_dispatch_stack(guard._dispatch)
            try:
                return func(*args, **kwargs)
            finally:
                _pop_torch_dispatch_stack(None)
        finally:
            _setprofile(guard._hook)


class _DispatchMode(TorchDispatchMode):
    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        # Called for every op while it is on: kept to dictionary lookups and one C call.
        guard = self.guard
        try:
            name = _OPS[func]
        except KeyError:
            name = _OPS[func] = "torch.ops." + str(func._schema.name).replace("::", ".")
        verdict = guard._verdicts.get(name)
        if verdict is None:
            verdict = guard._is_forbidden(name)
        if verdict:
            guard._hit(name)
        if _is_torch_function_all_disabled():
            # the function mode was switched off around this op (DisableTorchFunction)
            guard._hit("torch._C.DisableTorchFunction")
        return func._op(*args, **(kwargs or {}))


class _Integrity:
    """The guard module's and classes' attributes as loaded; ``check`` restores any changed."""

    def __init__(self, module: types.ModuleType, classes: tuple[type, ...], name: str) -> None:
        self._module = module
        self._module_attrs = dict(vars(module))
        self._module_attrs[name] = self  # the global this snapshot is about to be bound to
        self._classes = {cls: dict(vars(cls)) for cls in classes}

    def check(self) -> list[str]:
        """Names of the attributes found changed (each put back as it was)."""
        changed: list[str] = []
        current = vars(self._module)
        for key, value in self._module_attrs.items():
            if key in _BOOKKEEPING:
                continue
            if current.get(key, _MISSING) is not value:
                changed.append(key)
                setattr(self._module, key, value)
        for key in [k for k in current if k not in self._module_attrs and k not in _BOOKKEEPING]:
            changed.append(key)
            delattr(self._module, key)
        for cls, attrs in self._classes.items():
            now = dict(vars(cls))
            for key, value in attrs.items():
                if now.get(key, _MISSING) is not value:
                    changed.append(f"{cls.__name__}.{key}")
                    type.__setattr__(cls, key, value)
            for key in [k for k in now if k not in attrs]:
                changed.append(f"{cls.__name__}.{key}")
                type.__delattr__(cls, key)
        return changed


_MISSING = object()
# Globals Python itself writes into this module: a warning raised from a guard frame (an op's
# UserWarning while the dispatch mode runs it, torch.sparse's invariant notice) is recorded in
# ``__warningregistry__``. Not student code's doing, and nothing the guard reads.
_BOOKKEEPING = frozenset({"__warningregistry__"})


def reset() -> None:
    """No hook and no torch mode left in this thread, whatever student code did to a guard's
    exit (the worker runs no mode of its own between guarded calls)."""
    _setprofile(None)
    _thread_setprofile(None)  # type: ignore[arg-type]
    while _len_torch_function_stack():
        _pop_torch_function_stack()
    while _len_torch_dispatch_stack():
        _pop_torch_dispatch_stack(None)


def check_integrity() -> list[str]:
    """Attributes of this module or its classes that student code replaced (and that are now
    restored); empty when the guard is as loaded."""
    return _INTEGRITY.check()


# last: the snapshot holds every name above as loaded
_INTEGRITY = _Integrity(sys.modules[__name__], (Guard, _Mode, _DispatchMode, _Watch), "_INTEGRITY")
