"""Forbidden-API names: how one spec entry expands into every route to the same operation.

A spec's ``forbid`` list holds either an op family (``"softmax"``, no dots) or a qualified name
(``"torch.nn.init.xavier_uniform_"``, or a prefix ending in ``*``). A family expands to the
torch function, the Tensor method, the functional, the special-namespace alias, the nn.Module
class, the ``torch._C`` namespaces and the dispatcher's own ops (``torch.ops.aten._softmax``), so
forbidding ``softmax`` also forbids ``x.softmax(-1)``, ``nn.Softmax`` and
``torch.ops.aten._softmax.default``. A task that forbids anything also forbids compiling
(TorchScript, ``torch.compile``, ``torch.fx``): compiled code reaches ops by routes the worker's
guard does not name.

Two more kinds of name are judged the same way in every task that forbids anything:

* *dynamic* names hide which API is used (``eval``, ``getattr`` with a computed name or passed
  around as a value, ``vars``, ``__dict__``): they cost the code that uses them;
* *tampering* names reach the grader's own machinery in the worker (its profile hook, torch's
  mode stacks, frames, ``gc``, ``ctypes``, ``sys.modules``, the ``autograder`` package): one
  anywhere in a file costs every task that forbids anything.

Pure data and string functions: both the trusted AST scanner and the worker's runtime guard use
this module, and it must not import torch.
"""

from __future__ import annotations

_ROUTES = (
    "torch.{op}",
    "torch.{op}_",
    "torch.Tensor.{op}",
    "torch.Tensor.{op}_",
    "torch.nn.functional.{op}",
    "torch.nn.functional.{op}_",
    "torch.special.{op}",
    "torch._foreach_{op}",
    "torch._foreach_{op}_",
    "torch._C._nn.{op}",
    "torch._C._nn.{op}_",
    "torch._C._VariableFunctions.{op}",
    "torch._C._special.special_{op}",
)

# The dispatcher's ops for a family (what a TorchDispatchMode sees, whatever Python route or
# compiled code reached it): the op, its in-place and private variants, its kernels' names.
_ATEN_ROUTES = (
    "{op}",
    "{op}_",
    "_{op}",
    "special_{op}",
    "native_{op}",
    "{op}_forward",
    "{op}_backward",
    "_{op}_backward_data",
    "_foreach_{op}",
    "_foreach_{op}_",
)

# Routes that do not follow the naming pattern: module classes, aliases, fused variants.
_EXTRA: dict[str, tuple[str, ...]] = {
    "sigmoid": (
        "torch.nn.Sigmoid",
        "torch.special.expit",
        "torch.Tensor.sigmoid",
        "torch.nn.LogSigmoid",
        "torch.ops.aten.special_expit",
        "torch.ops.aten.log_sigmoid",
        "torch.ops.aten.log_sigmoid_forward",
        "torch.ops.aten.log_sigmoid_backward",
    ),
    "tanh": ("torch.nn.Tanh",),
    "relu": (
        "torch.nn.ReLU",
        "torch.nn.functional.relu6",
        "torch.nn.ReLU6",
        "torch.threshold",
        "torch.threshold_",
        "torch.nn.Threshold",
        "torch.ops.aten.relu6",
        "torch.ops.aten.relu6_",
        "torch.ops.aten.threshold",
        "torch.ops.aten.threshold_",
        "torch.ops.aten.threshold_backward",
        "torch.ops.aten._add_relu",
        "torch.ops.aten._add_relu_",
    ),
    "leaky_relu": (
        "torch.nn.LeakyReLU",
        "torch.rrelu",
        "torch.nn.functional.rrelu",
        "torch.prelu",
        "torch.nn.PReLU",
        "torch.ops.aten.rrelu",
        "torch.ops.aten.rrelu_",
        "torch.ops.aten.rrelu_with_noise",
        "torch.ops.aten.rrelu_with_noise_",
        "torch.ops.aten.prelu",
        "torch.ops.aten._prelu_kernel",
    ),
    "heaviside": ("torch.Tensor.heaviside",),
    "softmax": (
        "torch.nn.Softmax",
        "torch.nn.Softmax2d",
        "torch._softmax",
        "torch.ops.aten._safe_softmax",
        "torch.ops.aten._masked_softmax",
    ),
    "log_softmax": ("torch.nn.LogSoftmax", "torch._log_softmax"),
    "logsumexp": ("torch.special.logsumexp",),
    "cross_entropy": (
        "torch.nn.CrossEntropyLoss",
        "torch._C._nn.cross_entropy_loss",
        "torch.ops.aten.cross_entropy_loss",
    ),
    "nll_loss": (
        "torch.nn.NLLLoss",
        "torch._C._nn.nll_loss_nd",
        "torch._C._nn.nll_loss2d",
        "torch.ops.aten.nll_loss_nd",
        "torch.ops.aten.nll_loss2d",
        "torch.ops.aten.nll_loss2d_forward",
        "torch.ops.aten.nll_loss2d_backward",
    ),
    "mse_loss": ("torch.nn.MSELoss",),
    "linear": (
        "torch.nn.Linear",
        "torch.nn.LazyLinear",
        "torch.nn.Bilinear",
        "torch.ops.aten.bilinear",
        "torch.ops.aten._trilinear",
        "torch.ops.aten.mkldnn_linear",
    ),
    "dropout": (
        "torch.nn.Dropout",
        "torch.nn.Dropout1d",
        "torch.nn.AlphaDropout",
        "torch.native_dropout",
        "torch.ops.aten.feature_dropout",
        "torch.ops.aten.alpha_dropout",
        "torch.ops.aten.feature_alpha_dropout",
        "torch.ops.aten._fused_dropout",
    ),
    "batch_norm": (
        "torch.nn.BatchNorm1d",
        "torch.nn.BatchNorm2d",
        "torch.nn.LazyBatchNorm1d",
        "torch.native_batch_norm",
        "torch._native_batch_norm_legit",
        "torch.nn.modules.batchnorm._BatchNorm",
        "torch.ops.aten._native_batch_norm_legit",
        "torch.ops.aten._native_batch_norm_legit_no_training",
        "torch.ops.aten._native_batch_norm_legit_functional",
        "torch.ops.aten._batch_norm_impl_index",
        "torch.ops.aten._batch_norm_impl_index_backward",
        "torch.ops.aten._batch_norm_with_update",
        "torch.ops.aten._batch_norm_no_update",
        "torch.ops.aten.native_batch_norm_backward",
    ),
}

# Forbidden in every task that forbids anything: compiled code calls ops by routes the guard does
# not name. Explicit entry points as well as prefixes, so that the worker can watch each one.
COMPILE = (
    "torch.compile",
    "torch.jit.*",
    "torch.jit.script",
    "torch.jit.trace",
    "torch.jit.trace_module",
    "torch.jit.load",
    "torch.jit.freeze",
    "torch.jit.CompilationUnit",
    "torch._dynamo.*",
    "torch._dynamo.optimize",
    "torch._dynamo.export",
    "torch.fx.*",
    "torch.fx.symbolic_trace",
    "torch.fx.Tracer",
    "torch.fx.GraphModule",
    "torch.export.*",
    "torch.export.export",
    "torch._export.*",
    "torch._inductor.*",
    "torch.compiler.*",
    "torch.library.*",
    # Python decompositions: an op's own reference implementation out of allowed ops
    "torch._refs.*",
    "torch._decomp.*",
    "torch._prims.*",
    "torch.library.Library",
    "torch.library.custom_op",
    # what TorchScript calls back into while it compiles (CompilationUnit is a C class: its
    # construction has no Python code of its own for the worker's hook to see)
    "torch._jit_internal.*",
    "torch._jit_internal.createResolutionCallbackFromFrame",
    "torch._jit_internal.createResolutionCallbackFromEnv",
    "torch._jit_internal.createResolutionCallbackFromClosure",
    "torch._C._jit*",
    "torch._C.CompilationUnit",
    "torch._C.ScriptFunction",
    "torch._C.ScriptModule",
    "torch._C.import_ir_module",
)

# Names that hide which API a call reaches. ``getattr`` itself is judged by the scanner: a
# constant name is an ordinary use, a computed one or the builtin passed as a value is dynamic.
DYNAMIC = (
    "eval",
    "exec",
    "compile",
    "__import__",
    "__builtins__",
    "vars",
    "getattr",
    "importlib",
    "importlib.*",
    "builtins",
    "builtins.*",
    "operator.attrgetter",
    "operator.methodcaller",
    "inspect.getattr_static",
    "inspect.getmembers",
    "pydoc.*",
    "pkgutil.resolve_name",
    "types.FunctionType",
    "types.CodeType",
    "types.LambdaType",
    "marshal.*",
    "pickle.*",
    "runpy.*",
    "code.*",
    "codeop.*",
)
# Attributes that hide a name behind a lookup, on any object.
DYNAMIC_ATTRIBUTES = frozenset({"__dict__", "__getattribute__", "__getattr__"})

# Names that reach the worker's guard or the grader's code in the worker.
TAMPERING = (
    "autograder",
    "autograder.*",
    "ctypes",
    "ctypes.*",
    "_ctypes",
    "_ctypes.*",
    "cffi",
    "cffi.*",
    "sys.setprofile",
    "sys.getprofile",
    "sys.settrace",
    "sys.gettrace",
    "sys._getframe",
    "sys._current_frames",
    "sys.monitoring",
    "sys.monitoring.*",
    "sys.modules",
    "sys.meta_path",
    "sys.path_hooks",
    "threading.setprofile",
    "threading.settrace",
    "threading.setprofile_all_threads",
    "threading.settrace_all_threads",
    "threading._profile_hook",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "inspect.stack",
    "inspect.trace",
    "inspect.currentframe",
    "inspect.getouterframes",
    "inspect.getinnerframes",
    "traceback.walk_stack",
    "traceback.walk_tb",
    "torch.overrides.*",
    "torch.utils._python_dispatch.*",
    "torch._C.DisableTorchFunction",
    "torch._C.DisableTorchFunctionSubclass",
    "torch._C._DisableTorchDispatch",
    "torch._C._DisablePythonDispatcher",
    "torch._C._EnablePythonDispatcher",
    "torch._C._ExcludeDispatchKeyGuard",
    "torch._C._IncludeDispatchKeyGuard",
    "torch._C._pop_torch_function_stack",
    "torch._C._pop_torch_dispatch_stack",
    "torch._C._push_on_torch_function_stack",
    "torch._C._push_on_torch_dispatch_stack",
    "torch._C._set_torch_function_state",
    "torch._C._set_dispatch_mode",
    "torch._C._unset_dispatch_mode",
    "torch._C._dispatch*",
    # what the worker's own guard reports when its state was changed under it
    "guard.*",
)
# Attributes that walk from any object to frames, globals or other modules' objects.
TAMPERING_ATTRIBUTES = frozenset(
    {
        "__subclasses__",
        "__globals__",
        "__closure__",
        "__code__",
        "__builtins__",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "tb_frame",
        "gi_frame",
        "cr_frame",
        "ag_frame",
    }
)
# ``torch._C`` is the grader's business except for the op namespaces (checked as APIs).
_TORCH_C_OPS = ("_nn", "_VariableFunctions", "_special", "_linalg", "_fft", "TensorBase")

# Runtime reports for a guard whose state was changed under it (no Python name to point to).
GUARD_HOOK_REMOVED = "guard.profile_hook_removed"
GUARD_MODE_LEFT = "guard.torch_function_mode_left"
GUARD_DISPATCH_LEFT = "guard.dispatch_stack_changed"
GUARD_PATCHED = "guard.patched"
_GUARD_TEXT = {
    GUARD_HOOK_REMOVED: "switching off the worker's profile hook",
    GUARD_MODE_LEFT: "leaving the worker's TorchFunctionMode",
    GUARD_DISPATCH_LEFT: "changing torch's dispatch mode stack",
    GUARD_PATCHED: "patching the worker's forbidden-API guard",
}


def normalise(name: str) -> str:
    """One spelling per route: ``torch.ops.aten.X.overload`` and ``aten.X.overload`` (how torch
    names an op overload) -> ``torch.ops.aten.X``; the ``torch._C`` Tensor base -> ``torch.Tensor``.
    """
    if name.startswith("aten."):
        name = "torch.ops." + name
    if name.startswith("torch.ops."):
        parts = name.split(".")
        return ".".join(parts[:4])
    for prefix in ("torch._C._TensorBase.", "torch._C.TensorBase."):
        if name.startswith(prefix):
            return "torch.Tensor." + name[len(prefix) :]
    return name


def _aten(op: str) -> set[str]:
    return {f"torch.ops.aten.{route.format(op=op)}" for route in _ATEN_ROUTES}


def expand(entry: str) -> set[str]:
    """All qualified names (or ``prefix*`` patterns) that one forbid entry stands for."""
    entry = entry.strip()
    if "." in entry:
        names = {entry}
        parts = entry.split(".")
        op = parts[-1]
        if entry.startswith("torch.nn.functional."):
            # the functional's C half: torch._C._nn.silu(x) / x is a sigmoid
            names |= (
                {"torch._C._nn.*"}
                if entry.endswith("*")
                else {f"torch.Tensor.{op}", f"torch._C._nn.{op}"}
            )
        # the dispatcher's op of the same name: torch.clamp -> aten::clamp (and clamp_)
        single = len(parts) == 2 or (len(parts) == 3 and parts[1] in ("Tensor", "special"))
        functional = entry.startswith("torch.nn.functional.") and not op.endswith("*")
        if (single or functional) and parts[0] == "torch":
            if op.endswith("*"):
                prefix = "special_" if parts[1] == "special" else ""
                names.add(f"torch.ops.aten.{prefix}{op}")
            elif not op.startswith("__"):
                aten = f"special_{op}" if parts[1] == "special" else op
                names |= {f"torch.ops.aten.{aten}", f"torch.ops.aten.{aten.rstrip('_')}_"}
        elif entry.startswith("torch.linalg."):
            names.add(f"torch.ops.aten.linalg_{op}")
        return names
    names = {route.format(op=entry) for route in _ROUTES}
    names |= _aten(entry)
    names |= set(_EXTRA.get(entry, ()))
    return names


def expand_all(entries: list[str]) -> set[str]:
    """Union of :func:`expand` over a forbid list, plus compiling when the list is not empty."""
    out: set[str] = set()
    for entry in entries:
        out |= expand(entry)
    if out:
        out |= set(COMPILE)
    return out


def dispatch_names(forbidden: set[str]) -> set[str]:
    """The dispatcher ops (``torch.ops.aten.X``, or ``prefix*``) among expanded names."""
    return {n for n in forbidden if n.startswith("torch.ops.")}


def matches(name: str, forbidden: set[str]) -> str | None:
    """The forbid entry that ``name`` falls under (exactly or by a ``prefix*``), else None."""
    name = normalise(name)
    if name in forbidden:
        return name
    for pattern in forbidden:
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return pattern
    return None


class Patterns:
    """A forbid list, expanded once, for matching many names (the trusted scan's view).

    Besides exact names and ``prefix*`` patterns it knows each route's final name, so that an
    attribute on an arbitrary value (``ns.softmax`` for ``ns = torch.nn.functional``, reported by
    the scan as ``torch.Tensor.softmax``) or under another torch path
    (``torch.nn.modules.activation.F.softmax``) is judged by that name too. Compiling is left
    out of that rule: ``x.trace()`` is a matrix's trace, not ``torch.jit.trace``.
    """

    def __init__(self, entries: list[str]) -> None:
        names = expand_all(entries)
        self.names = frozenset(n for n in names if not n.endswith("*"))
        self.prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
        own = set().union(*(expand(e) for e in entries)) if entries else set()
        self.methods = frozenset(
            n.rsplit(".", 1)[-1] for n in own if not n.endswith("*") and "." in n
        )

    def __bool__(self) -> bool:
        return bool(self.names or self.prefixes)

    def match(self, name: str) -> str | None:
        """The forbidden name or pattern ``name`` falls under, else None. An attribute of a
        forbidden object is that object (``torch.softmax.__call__``, ``torch.nn.Softmax.forward``).
        """
        name = normalise(name)
        if name in self.names:
            return name
        parts = name.split(".")
        for cut in range(len(parts) - 1, 1, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self.names:
                return prefix
        for prefix in self.prefixes:
            if name.startswith(prefix):
                return prefix + "*"
        if name.startswith("torch.") and name.rsplit(".", 1)[-1] in self.methods:
            return name
        return None


def _listed(name: str, table: tuple[str, ...]) -> bool:
    """``name`` is in ``table``: exactly, under a ``prefix*``, or as a module whose members
    the table lists (``torch.overrides`` for ``torch.overrides.*``)."""
    return any(
        name == p
        or (p.endswith("*") and name.startswith(p[:-1]))
        or (p.endswith(".*") and name == p[:-2])
        or name.startswith(p + ".")
        for p in table
    )


def is_tampering(name: str) -> bool:
    """Whether ``name`` reaches the grader's machinery in the worker (see module docstring)."""
    if name == "torch._C":  # the module itself, taken as a value: every internal is one step away
        return True
    if name.startswith("torch._C."):
        namespace = name.split(".")[2]
        if namespace not in _TORCH_C_OPS and not _listed(name, COMPILE):
            return True
    attr = name.rsplit(".", 1)[-1]
    return _listed(name, TAMPERING) or attr in TAMPERING_ATTRIBUTES


def is_dynamic(name: str) -> bool:
    """Whether ``name`` hides which API is reached (see module docstring)."""
    if name.startswith(("getattr(", "vars(")):
        return True
    # an op namespace taken as a value (``ns = torch.ops.aten``): its ops go unnamed
    if name == "torch.ops" or (name.startswith("torch.ops.") and name.count(".") == 2):
        return True
    attr = name.rsplit(".", 1)[-1]
    return _listed(name, DYNAMIC) or attr in DYNAMIC_ATTRIBUTES


def display(name: str) -> str:
    """A student-friendly spelling of a name the scan or the guard reported."""
    if name in _GUARD_TEXT:
        return _GUARD_TEXT[name]
    if name.startswith("torch.Tensor.__"):  # a dunder looked up on some value, not a Tensor's
        return "<value>." + name[len("torch.Tensor.") :]
    return name.replace("torch._C._VariableFunctions.", "torch.").replace("torch._C._nn.", "F.")
