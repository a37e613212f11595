"""Assignment specs: the pydantic models that a homework's TOML file must satisfy.

A spec is data. It names the student file, the tasks with their points and visibility, the torch
APIs each task forbids, and the checks (with weights) that compare the student's symbols with the
reference solution. The engine turns a spec into probes (`plan.py`); nothing here runs code.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from autograder.points import to_fraction
from autograder.wire.arch import architecture

Dtype = Literal["float32", "float64"]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
PythonName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class _Model(BaseModel):
    # inf and nan are legitimate probe values (an attention mask's -inf): JSON keeps them as
    # the constants Python's json reads back, not as null (the kit's spec.json, spec_hash)
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


class Tolerance(_Model):
    """Closeness rule ``|actual - expected| <= atol + rtol * |expected|``, elementwise."""

    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


# torch.testing.assert_close's defaults per dtype; a spec may override them.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "float32": Tolerance(rtol=1.3e-6, atol=1e-5),
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
}


class Limits(_Model):
    """Wall-clock and memory budgets for the untrusted worker."""

    task_seconds: float = Field(default=60, gt=0, le=3600)
    # importing the submission (module-level code) must finish within this
    import_seconds: float = Field(default=30, gt=0, le=3600)
    submission_seconds: float = Field(default=600, gt=0, le=7200)
    memory_mb: int = Field(default=4096, ge=256, le=65536)
    processes: int = Field(default=64, ge=4, le=4096)
    scratch_mb: int = Field(default=64, ge=1, le=4096)
    output_kb: int = Field(default=64, ge=1, le=4096)


class Arg(_Model):
    """One argument of a probe call, generated on the trusted side from the case's seed.

    Exactly one of the generator fields is set: ``randn``/``rand``/``zeros``/``ones`` give a
    shape, ``randint`` a shape with ``high``, ``values`` a nested list, ``items`` a list of
    tensor arguments (e.g. parameters), ``value`` a plain Python literal, ``none = true``
    Python None (an optional tensor switched off, such as a bias), ``fn`` one of the grader's
    own callables (``wire/steps.py``: a decoder's ``step`` model) built from the tensor
    arguments in ``params`` and the literal ``options``.
    """

    randn: list[int] | None = None
    rand: list[int] | None = None
    randint: list[int] | None = None
    zeros: list[int] | None = None
    ones: list[int] | None = None
    values: list[Any] | None = None
    items: list[Arg] | None = None
    value: Any = None
    # Python None in place of an optional tensor (``bias=None``): TOML has no null.
    none: Literal[True] | None = None
    # ``value``'s lists arrive as lists (token lists, tag sequences); by default every list
    # becomes a tuple, as torch options such as ``betas=(0.9, 0.999)`` expect.
    lists: bool = False
    # A callable of the grader's, passed to the student's code (a decoder's step model).
    fn: PythonName | None = None
    params: dict[PythonName, Arg] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    # Shaping of random tensors.
    scale: float = 1.0
    shift: float = 0.0
    low: float = 0.0
    high: float = 1.0
    # Resample |x| below this (keeps finite differences off kinks such as relu's).
    away_from_zero: float = 0.0
    dtype: Literal["float32", "float64", "int64", "uint8", "bool"] | None = None
    # Gradients are taken with respect to floating tensors unless this is False.
    grad: bool = True
    # A parameter that arrives with ``.grad`` already filled (randn of its shape times this
    # scale); the call's effect on that gradient is observed (``clip_grad_norm_``).
    with_grad: float | None = None
    # A network of the grader's (torch layers, ``wire/arch.py``): one layer config, or several
    # for an ``nn.Sequential``; its tensors are generated like any other (``fill_value``), and
    # it arrives in eval mode.
    module: list[dict[str, Any]] | None = None
    # Distinct (row, col) index pairs of a sparse matrix in COO form, in random order:
    # ``[n_rows, n_cols, nnz]``; ``take`` says which half this argument is. Two arguments of
    # one case with the same ``pairs`` get the same draw, so rows and cols stay matched.
    pairs: list[Annotated[int, Field(ge=0)]] | None = None
    take: Literal["rows", "cols"] | None = None
    # The generated tensor repeated along each dimension (``Tensor.repeat``): randn [1, 8]
    # tiled [5000, 1] is 5000 copies of one row, e.g. one Gaussian per latent dimension to
    # sample from 5000 times.
    tile: list[Annotated[int, Field(ge=1)]] | None = None

    @model_validator(mode="after")
    def _one_generator(self) -> Arg:
        fields = [
            "randn",
            "rand",
            "randint",
            "zeros",
            "ones",
            "values",
            "items",
            "value",
            "none",
            "fn",
            "module",
            "pairs",
        ]
        set_fields = [f for f in fields if getattr(self, f) is not None]
        if len(set_fields) != 1:
            raise ValueError(
                f"an argument needs exactly one of {', '.join(fields)}; got {set_fields or 'none'}"
            )
        if self.fn is None and (self.params or self.options):
            raise ValueError("params and options belong to a callable argument (fn = ...)")
        if self.module is not None:
            try:
                architecture(self.module)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:])
                raise ValueError(f"module {where}: {first['msg']}") from None
        if (self.pairs is None) != (self.take is None):
            raise ValueError("pairs = [n_rows, n_cols, nnz] and take = 'rows' | 'cols' go together")
        if self.pairs is not None:
            if len(self.pairs) != 3 or min(self.pairs[:2]) < 1:
                raise ValueError("pairs must be [n_rows, n_cols, nnz] with n_rows, n_cols >= 1")
            if self.pairs[2] > self.pairs[0] * self.pairs[1]:
                raise ValueError(
                    f"pairs: {self.pairs[2]} distinct pairs do not fit in "
                    f"{self.pairs[0]} x {self.pairs[1]}"
                )
        if self.randint is not None and self.high < 1:
            raise ValueError("randint needs high >= 1 (the number of classes)")
        for shape_field in ("randn", "rand", "randint", "zeros", "ones"):
            shape = getattr(self, shape_field)
            if shape is not None and any((not isinstance(d, int)) or d < 0 for d in shape):
                raise ValueError(f"{shape_field} must be a shape of non-negative integers")
        if self.tile is not None:
            shapes = ("randn", "rand", "randint", "zeros", "ones")
            shape = next((getattr(self, f) for f in shapes if getattr(self, f) is not None), None)
            if shape is None and self.values is None:
                raise ValueError("tile repeats a generated tensor (randn, rand, values, ...)")
            if shape is not None and len(self.tile) < len(shape):
                raise ValueError(f"tile needs one entry per dimension of {shape}")
        return self


class Case(_Model):
    """One call: positional arguments and keyword arguments."""

    args: list[Arg] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    label: str = ""


class _CheckBase(_Model):
    id: Identifier
    weight: float = Field(default=1.0, gt=0)
    symbol: PythonName
    title: str = ""


class CallCheck(_CheckBase):
    """Shared shape of forward/backward/gradcheck: call ``symbol`` on each case.

    ``call`` says how: a plain function, ``Symbol.apply`` of an autograd.Function, or a module
    built with ``init`` kwargs, given the ``state`` tensors by name, in ``mode``.
    """

    call: Literal["function", "autograd_function", "module"] = "function"
    cases: list[Case] | str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    init: dict[str, Any] = Field(default_factory=dict)
    state: dict[str, Arg] = Field(default_factory=dict)
    mode: Literal["train", "eval"] = "train"
    dtype: Dtype = "float32"
    rtol: float | None = Field(default=None, ge=0)
    atol: float | None = Field(default=None, ge=0)
    # Outputs must be finite whenever the reference's are (e.g. logits of 1e4).
    require_finite: bool = True
    # The call must return its first argument itself (in-place initialisers).
    returns_input: bool = False
    # What the call returns: tensors (one, or a tuple/list of them), or any Python value (a
    # dict, a list of tuples, a float, tensors inside tuples, None), carried as typed JSON
    # (``wire/values.py``) and compared item by item (``checks/values.py``).
    returns: Literal["tensors", "value"] = "tensors"
    # ``call = "module"``: fill every floating parameter and buffer from the check's seed by its
    # state_dict key (``wire/modules.fill_``) before ``state`` is applied, so one set of values
    # reaches the student's module and the reference's; their state_dict keys must then agree
    # (the template lists them), and backward compares the gradient of every parameter.
    fill_state: bool = False
    # Arguments to return as they are after the call (0-based positions): a tensor changed in
    # place (a pruned weight) or a module (every state_dict entry of it).
    observe: list[Annotated[int, Field(ge=0, le=16)]] = Field(default_factory=list)
    # The call returns a module: it is put in eval mode and called on these arguments (under
    # no_grad), and that output is what is compared (``fuse_conv_bn`` returns a Conv2d).
    apply: list[Arg] = Field(default_factory=list)
    # Compare only these outputs of a returned tuple (0-based), e.g. the factors of a fit apart
    # from its loss history; empty: every output. The count of outputs is checked either way.
    outputs: list[Annotated[int, Field(ge=0, le=64)]] = Field(default_factory=list)
    # Each compared output must be non-increasing along its last dimension, within the
    # check's tolerance (the loss history of a method that never increases its objective).
    non_increasing: bool = False

    @field_validator("cases")
    @classmethod
    def _some_cases(cls, cases: list[Case] | str) -> list[Case] | str:
        # a check with no case would compare nothing and pass by omission
        if isinstance(cases, list) and not cases:
            raise ValueError("a check needs at least one case (or the name of a case set)")
        return cases


class ForwardCheck(CallCheck):
    kind: Literal["forward"]


class BackwardCheck(CallCheck):
    """Gradients of ``sum(output * upstream)`` w.r.t. the floating arguments and parameters."""

    kind: Literal["backward"]


class GradcheckCheck(CallCheck):
    """``torch.autograd.gradcheck`` semantics computed on the trusted side from raw outputs.

    The worker returns the student's analytic Jacobian (one backward per output element) and
    the forward outputs at ``x ± eps`` per input element; the trusted side forms the central
    difference and compares with gradcheck's ``atol``/``rtol``. Always float64.
    """

    kind: Literal["gradcheck"]
    dtype: Dtype = "float64"
    eps: float = Field(default=1e-6, gt=0)
    gc_atol: float = Field(default=1e-5, ge=0)
    gc_rtol: float = Field(default=1e-3, ge=0)

    @model_validator(mode="after")
    def _callable_again(self) -> GradcheckCheck:
        # the worker re-calls the symbol at x +- eps; a module would need rebuilding each time
        if self.call == "module":
            raise ValueError(
                "gradcheck supports call = 'function' or 'autograd_function', not 'module'"
            )
        return self


class DistributionCheck(CallCheck):
    """Samples from a random symbol compared with the reference's samples.

    ``sample``: ``"input"`` (the first argument after an in-place initialiser), ``"output"``,
    or ``"output_over_input"`` (dropout: the elementwise ratio isolates mask and scale).
    Tests run at a per-test false-fail rate ``alpha`` (two-sided), see checks/distribution.py.
    """

    kind: Literal["distribution"]
    sample: Literal["input", "output", "output_over_input"] = "output"
    tests: list[Literal["ks", "mean", "std", "support", "zero_fraction"]] = Field(
        default_factory=lambda: ["ks", "mean", "std"]
    )
    alpha: float = Field(default=1e-6, gt=0, lt=0.01)
    # For "output_over_input": the gradient of sum(out * g) w.r.t. x divided by g must equal
    # out / x (the same mask and scale in forward and backward).
    check_backward_mask: bool = False
    # Run every test on each slice along the last dimension separately (per latent dimension
    # of a sampler whose rows repeat one distribution, see ``Arg.tile``); the false-fail rate
    # is then at most tests x slices x cases x alpha.
    per_last_dim: bool = False


# The parameters of the optimizer check's fixed problem, in trajectory order.
OPTIMIZER_PARAMS = ("w1", "b1", "w2", "b2", "unused")


class ParamGroup(_Model):
    """One parameter group: some of the problem's parameters and options over ``kwargs``."""

    params: list[Literal["w1", "b1", "w2", "b2", "unused"]] = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class OptimizerConfig(_Model):
    """One run of the optimizer: constructor ``kwargs``, optionally parameter ``groups`` (every
    parameter in exactly one) and ``lr_schedule``: before step N (1-based), every group's
    ``"lr"`` is set to the value, as torch's learning-rate schedulers do."""

    kwargs: dict[str, Any] = Field(default_factory=dict)
    label: str = ""
    groups: list[ParamGroup] = Field(default_factory=list)
    lr_schedule: dict[Annotated[int, Field(ge=1)], Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _groups_cover_the_problem(self) -> OptimizerConfig:
        if self.groups:
            named = [name for group in self.groups for name in group.params]
            if sorted(named) != sorted(OPTIMIZER_PARAMS):
                raise ValueError(
                    f"groups must hold each of {', '.join(OPTIMIZER_PARAMS)} exactly once, "
                    f"got {', '.join(named)}"
                )
        return self


class OptimizerCheck(_CheckBase):
    """Parameter trajectory of the student's optimizer on a fixed problem vs the reference's.

    The problem (a small tanh MLP regression in float64, plus one parameter that never gets a
    gradient) is built by the grader; only the optimizer comes from the submission.
    """

    kind: Literal["optimizer"]
    configs: list[OptimizerConfig] = Field(min_length=1)
    steps: int = Field(default=50, ge=1, le=2000)
    dtype: Dtype = "float64"
    rtol: float | None = Field(default=None, ge=0)
    atol: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _schedule_within_steps(self) -> OptimizerCheck:
        for config in self.configs:
            late = sorted(step for step in config.lr_schedule if step > self.steps)
            if late:
                raise ValueError(
                    f"config {config.label or config.kwargs}: lr_schedule step {late[0]} is after "
                    f"the last step ({self.steps})"
                )
        return self


class ModuleStateCheck(_CheckBase):
    """A module's parameters/buffers by name and shape, and its state over train/eval steps.

    ``expect`` maps each interface name (e.g. ``running_mean``) to its shape; names the spec
    does not list may exist or not. ``steps`` alternate modes; after each step the outputs and
    the named tensors are compared with the reference's.
    """

    kind: Literal["module_state"]
    init: dict[str, Any] = Field(default_factory=dict)
    expect: dict[str, list[int]]
    trainable: list[str] = Field(default_factory=list)
    # Compare values right after construction (False where the init is random, e.g. Linear).
    compare_init: bool = True
    steps: list[Case] = Field(default_factory=list)
    modes: list[Literal["train", "eval"]] = Field(default_factory=list)
    dtype: Dtype = "float32"
    rtol: float | None = Field(default=None, ge=0)
    atol: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _modes_match_steps(self) -> ModuleStateCheck:
        if len(self.modes) != len(self.steps):
            raise ValueError(f"modes has {len(self.modes)} entries but steps has {len(self.steps)}")
        return self


class Credit(_Model):
    """How one measured metric of a trained-model check earns credit (``trusted/credit.py``).

    ``relative``: full credit at or better than the reference recipe's value minus
    ``tolerance`` (in the metric's better direction), none at or worse than ``floor``, linear
    in between. ``absolute``: full credit at or better than ``full``, none at ``floor``.
    """

    metric: Identifier
    rule: Literal["relative", "absolute"] = "relative"
    tolerance: float = Field(default=0.0, ge=0)
    full: float | None = None
    floor: float
    weight: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _rule_fields(self) -> Credit:
        if self.rule == "absolute" and self.full is None:
            raise ValueError("the absolute rule needs 'full' (where credit becomes full)")
        if self.rule == "relative" and self.full is not None:
            raise ValueError("'full' belongs to the absolute rule; relative uses 'tolerance'")
        return self


class BenchmarkCheck(_Model):
    """Train a model on a registered dataset, measure it on held-out truth, credit the metrics.

    The ``recipe`` (registered on both sides) says what is trained from which of the student's
    ``components`` and how the trusted side measures the result; ``params`` are the recipe's
    hyper-parameters (validated by the recipe when the plan is built). Held-out inputs and
    truth never enter the sandbox; the training order and a dataset's held-out choice come from
    the course secret. ``budget_seconds`` is CPU time for training.
    """

    kind: Literal["benchmark"]
    id: Identifier
    weight: float = Field(default=1.0, gt=0)
    title: str = ""
    recipe: Identifier
    dataset: Identifier
    components: dict[str, PythonName]
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    threads: int = Field(default=1, ge=1, le=64)
    budget_seconds: float = Field(default=60, gt=0, le=3600)
    credit: list[Credit] = Field(min_length=1)
    # How the credits combine: their weighted mean, or the smallest (every metric must hold:
    # a compressed model must stay accurate *and* be small).
    combine: Literal["mean", "min"] = "mean"
    # Trusted fixtures (``trusted/fixtures``: a network the grader trained itself, ...) the
    # recipe receives as inputs, computed once before planning and cached.
    fixtures: list[Identifier] = Field(default_factory=list)

    @property
    def symbol(self) -> str | None:
        return None


Check = Annotated[
    ForwardCheck
    | BackwardCheck
    | GradcheckCheck
    | DistributionCheck
    | OptimizerCheck
    | ModuleStateCheck
    | BenchmarkCheck,
    Field(discriminator="kind"),
]


class SymbolDoc(_Model):
    """A student symbol: its signature and docstring, for generated templates and messages."""

    name: PythonName
    signature: str
    doc: str = ""
    kind: Literal["function", "class"] = "function"
    base: str = ""
    # An nn.Module's forward signature when it is not ``(self, x)``: ``(self, x, skip)``.
    forward: str = ""


class Task(_Model):
    id: Identifier
    title: str
    points: Fraction
    visibility: Literal["public", "hidden"] = "public"
    symbols: list[SymbolDoc]
    forbid: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(min_length=1)

    @field_validator("points", mode="before")
    @classmethod
    def _points(cls, value: Any) -> Fraction:
        return to_fraction(value)

    # Field validators, not a model validator: pydantic then locates the error at the field
    # ("tasks[0] (id 'acts').checks") instead of the whole model.
    @field_validator("checks")
    @classmethod
    def _unique_checks(cls, checks: list[Check], info: ValidationInfo) -> list[Check]:
        ids = [c.id for c in checks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate check ids {dupes}")
        if "symbols" not in info.data:
            return checks  # the symbols themselves are invalid, and reported
        names = {s.name for s in info.data["symbols"]}
        for check in checks:
            used = (
                [check.symbol] if check.symbol else list(getattr(check, "components", {}).values())
            )
            for name in used:
                if name not in names:
                    raise ValueError(
                        f"check {check.id!r} uses symbol {name!r}, not listed in the task's symbols"
                    )
        return checks

    @property
    def is_benchmark(self) -> bool:
        return any(c.kind == "benchmark" for c in self.checks)


class Assignment(_Model):
    id: Identifier
    title: str
    points: Fraction
    student_file: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.py$")]
    reference: PythonName
    description: str = ""
    limits: Limits = Limits()
    tolerances: dict[Dtype, Tolerance] = Field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    cases: dict[Identifier, list[Case]] = Field(default_factory=dict)
    tasks: list[Task] = Field(min_length=1)

    @field_validator("points", mode="before")
    @classmethod
    def _points(cls, value: Any) -> Fraction:
        return to_fraction(value)

    @field_validator("cases")
    @classmethod
    def _named_sets_not_empty(cls, cases: dict[str, list[Case]]) -> dict[str, list[Case]]:
        empty = sorted(name for name, items in cases.items() if not items)
        if empty:
            raise ValueError(f"case set {empty[0]!r} is empty; a check needs at least one case")
        return cases

    @field_validator("tasks")
    @classmethod
    def _consistent(cls, tasks: list[Task], info: ValidationInfo) -> list[Task]:
        ids = [t.id for t in tasks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate task ids {dupes}")
        points = info.data.get("points")
        total = sum((t.points for t in tasks), Fraction(0))
        if points is not None and total != points:
            raise ValueError(
                f"task points add up to {float(total):g}, but the assignment declares "
                f"points = {float(points):g}"
            )
        if "cases" not in info.data:
            return tasks  # the case sets themselves are invalid, and reported
        defined = info.data["cases"]
        for task in tasks:
            for check in task.checks:
                cases = getattr(check, "cases", None)
                if isinstance(cases, str) and cases not in defined:
                    raise ValueError(
                        f"task {task.id!r} check {check.id!r} refers to case set {cases!r}, "
                        f"which is not defined under [cases] (defined: {sorted(defined)})"
                    )
        return tasks

    @property
    def module_name(self) -> str:
        return self.student_file[: -len(".py")]

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def cases_of(self, check: CallCheck) -> list[Case]:
        """The check's cases, resolving a named case set."""
        return self.cases[check.cases] if isinstance(check.cases, str) else list(check.cases)

    def tolerance_of(self, check: Any) -> Tolerance:
        """The check's tolerance: its own rtol/atol over the spec's default for its dtype."""
        base = self.tolerances.get(check.dtype, DEFAULT_TOLERANCES[check.dtype])
        return Tolerance(
            rtol=base.rtol if check.rtol is None else check.rtol,
            atol=base.atol if check.atol is None else check.atol,
        )
