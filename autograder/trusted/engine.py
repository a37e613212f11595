"""The grading engine: spec -> plan -> untrusted worker -> raw results -> trusted comparison -> Report.

``Grader`` owns the warm zygotes (one per parallel slot) and the cached reference results for
one assignment. ``grade`` never raises for anything a submission does; it raises
``SubmissionError`` only when the path itself cannot be read.
"""

from __future__ import annotations

import ast
import hashlib
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch

from autograder import sandbox
from autograder.data import registry as data_registry
from autograder.errors import AutograderError, DataError, SandboxError, SubmissionError
from autograder.points import display_points, fraction_str
from autograder.report import Report, TaskResult
from autograder.spec.course import Course
from autograder.spec.load import LoadedAssignment, load_assignment
from autograder.submission import read_submission
from autograder.trusted import fixtures as trusted_fixtures
from autograder.trusted import forbidden, pysource, reference, scoring
from autograder.trusted.checks import Outcome, ProbePair
from autograder.trusted.execute import TaskGroup, execute, plan_inputs, plan_tensors
from autograder.trusted.kinds import kind
from autograder.trusted.plan import build_plan
from autograder.trusted.probe import Plan
from autograder.trusted.raw import Execution, ProbeRaw
from autograder.trusted.recipes import HeldOut, expose, recipe
from autograder.trusted.secret import course_secret
from autograder.trusted.supervisor import Zygote
from autograder.version import __version__
from autograder.wire import frames as wire
from autograder.wire import source as submission_source


def _now() -> datetime:
    return datetime.now(UTC)


class Grader:
    """Grades files against one assignment. Use as a context manager (starts worker processes)."""

    def __init__(
        self,
        assignment: LoadedAssignment | str,
        *,
        workers: int = 1,
        skip_benchmarks: bool = False,
        course: Course | None = None,
        data_root: str | None = None,
        require_data: bool = False,
        insecure: bool = False,
        threads: int = 1,
        plan: Plan | None = None,
        reference_results: Execution | None = None,
        skip: dict[str, str] | None = None,
        prelaunched: Zygote | None = None,
    ) -> None:
        """``plan``, ``reference_results`` and ``skip`` let a student kit stand in for the course:
        a fixed plan and stored reference results instead of running the reference solution, and
        tasks skipped with the given reason (see ``autograder.student.kit``). ``prelaunched`` is a
        zygote from ``workers.launch_early``, taken as the first slot if its settings match."""
        self.loaded = (
            assignment
            if isinstance(assignment, LoadedAssignment)
            else load_assignment(assignment, course)
        )
        self.spec = self.loaded.spec
        self.workers = max(1, workers)
        self.threads = threads
        self.insecure = insecure
        self.data_root = data_root
        self.require_data = require_data
        self.skipped: dict[str, str] = {}
        if skip_benchmarks:
            for task in self.spec.tasks:
                if task.is_benchmark:
                    self.skipped[task.id] = "skipped (--skip-benchmarks)"
        self.skipped.update(skip or {})
        self._fixed_plan = plan
        self._fixed_reference = reference_results
        self._prelaunched = prelaunched
        self._stop = threading.Event()
        self._zygotes: queue.Queue[Zygote] = queue.Queue()
        self._all_zygotes: list[Zygote] = []
        self.secret = course_secret()
        # dataset name -> its bundle for the workers (training split), its held-out part (the
        # trusted side's only) and what it says about itself
        self._data: dict[str, wire.Bundle] = {}
        self._truth: dict[str, HeldOut] = {}
        # fixture name -> what the grader computed for checks to use (``trusted/fixtures``)
        self._fixtures: dict[str, trusted_fixtures.FixtureValue] = {}
        self._data_info: dict[str, dict[str, Any]] = {}
        self._data_hash = ""
        self._groups: list[TaskGroup] = []
        # per probe id: the most bytes and tensors a worker may return (from the reference)
        self._frame_caps: dict[str, int] = {}
        self._tensor_caps: dict[str, int] = {}
        self._reference: Execution | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Grader:
        self._load_data()
        # Trusted comparisons are small tensor ops: an intra-op pool here only spins against
        # the workers' cores (scoring Homework 1 took 0.96 s with 2 threads, 0.59 s with 1).
        self._parent_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.plan = self._fixed_plan or build_plan(
            self.spec,
            include={t.id for t in self.spec.tasks if t.id not in self.skipped},
            secret=self.secret,
            data_info=self._data_info,
            fixtures=self._fixtures,
            source=str(self.loaded.path),
        )
        self._groups = self._task_groups()
        self.caps = sandbox.probe()
        if any(t.visibility == "hidden" for t in self.spec.tasks if t.id in self.plan.tasks):
            allowed, why = sandbox.hidden_tasks_allowed(self.caps, self.insecure)
            if not allowed:
                raise SandboxError(why)
        # One long-lived thread starts every zygote: bubblewrap dies with the thread that spawned it.
        self._launcher = ThreadPoolExecutor(1, thread_name_prefix="zygote-launcher")
        zygotes = self._adopt_prelaunched()
        zygotes += [
            self._launcher.submit(self._new_zygote().launch).result()
            for _ in range(self.workers - len(zygotes))
        ]
        # While the zygotes import torch, warm the trusted side on a cached reference: the first
        # scoring in a process pays ~0.6 s of lazy imports (scipy.stats) and first calls.
        self._reference = self._cached_reference()
        if self._reference is not None:
            self._warm_scoring(self._reference)
        for z in zygotes:
            z.wait_ready()
            self._all_zygotes.append(z)
            self._zygotes.put(z)
        if self._reference is None:
            self._reference = self._reference_execution()
        self._set_output_caps(self._reference)
        return self

    def _new_zygote(self, slot: sandbox.Slot | None = None) -> Zygote:
        """A worker slot boxed with every isolation layer this machine offers (not started)."""
        if slot is None:
            slot = sandbox.Slot(
                self.caps, scratch_mb=self.spec.limits.scratch_mb, insecure=self.insecure
            )
        return Zygote(self.threads, slot=slot, stop=self._stop)

    def _adopt_prelaunched(self) -> list[Zygote]:
        early, self._prelaunched = self._prelaunched, None
        if early is None:
            return []
        slot = early.slot
        if (
            slot is not None
            and slot.caps == self.caps
            and slot.scratch_mb == self.spec.limits.scratch_mb
            and slot.insecure == self.insecure
            and not slot.readable
            and early.threads == self.threads
        ):
            early.stop = self._stop
            return [early]
        early.close()  # started for other settings: not this grader's box
        if slot is not None:
            slot.close()
        return []

    def _restart(self, zygote: Zygote) -> Zygote:
        zygote.close()
        fresh = self._launcher.submit(self._new_zygote(zygote.slot).launch).result()
        return fresh.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for z in self._all_zygotes:
            z.close()
            if z.slot is not None:
                z.slot.close()
        self._all_zygotes.clear()
        if getattr(self, "_launcher", None) is not None:
            self._launcher.shutdown(wait=True)
        torch.set_num_threads(getattr(self, "_parent_threads", torch.get_num_threads()))

    def _trained_checks(self) -> list[tuple[Any, Any]]:
        """(task, check) of every trained-model check that is not skipped."""
        return [
            (task, check)
            for task in self.spec.tasks
            if task.id not in self.skipped
            for check in task.checks
            if kind(check.kind).trained
        ]

    def _load_data(self) -> None:
        """Load and split every dataset a trained-model check names (seeded by the secret),
        then build the fixtures those checks name from theirs."""
        names = sorted(
            {check.dataset for _, check in self._trained_checks()}
            | {
                trusted_fixtures.FIXTURES[f].dataset
                for _, check in self._trained_checks()
                for f in check.fixtures
                if f in trusted_fixtures.FIXTURES
            }
        )
        loaded: dict[str, Any] = {}
        hashes = []
        for name in names:
            try:
                splits = data_registry.load(
                    name, self.data_root, self.secret.seed(self.spec.id, name, "split")
                )
            except DataError as exc:
                if self.require_data:
                    raise
                for task, check in self._trained_checks():
                    if check.dataset == name:
                        self.skipped[task.id] = f"skipped: benchmark data not available ({exc})"
                continue
            uses = [c for _, c in self._trained_checks() if c.dataset == name]
            order, exposed = expose(
                splits.held_out,
                (key for c in uses for key in recipe(c.recipe).exposes),
                self.secret.seed(self.spec.id, name, "expose"),
            )
            self._data[name] = wire.Bundle.of(
                {f"data|{name}|{k}": v for k, v in {**splits.train, **exposed}.items()}
            )
            secret = "public development secret" if self.secret.public else self.secret.fingerprint
            self._truth[name] = HeldOut(splits.held_out, splits.info, order, secret)
            self._data_info[name] = splits.info
            hashes.append(f"{name}:{splits.sha256}")
            loaded[name] = splits
        self._data_hash = ",".join(hashes)
        self._build_fixtures(loaded)

    def _build_fixtures(self, loaded: dict[str, Any]) -> None:
        """Every fixture a trained-model check names, from its dataset (built once, cached).

        An unknown name is left to the plan, which reports it as a located spec error."""
        for task, check in self._trained_checks():
            for name in check.fixtures:
                entry = trusted_fixtures.FIXTURES.get(name)
                if entry is None or name in self._fixtures:
                    continue
                splits = loaded.get(entry.dataset)
                if splits is None:
                    self.skipped[task.id] = (
                        f"skipped: benchmark data not available (the dataset {entry.dataset!r} "
                        f"that the fixture {name!r} is made from)"
                    )
                    continue
                self._fixtures[name] = trusted_fixtures.load_or_build(name, splits)

    def _task_groups(self) -> list[TaskGroup]:
        """Public tasks, then hidden ones, each group in children of its own (see execute)."""
        data_for = {
            task.id: [self._data[c.dataset] for c in task.checks if c.kind == "benchmark"]
            for task in self.spec.tasks
            if task.id in self.plan.tasks
        }
        groups = []
        for visibility in ("public", "hidden"):
            ids = [
                t.id
                for t in self.spec.tasks
                if t.visibility == visibility and t.id in self.plan.tasks
            ]
            if not ids:
                continue
            data = {t: data_for[t] for t in ids if data_for.get(t)}
            if visibility == "public":
                groups.append(TaskGroup(ids, inputs=plan_inputs(self.plan, ids), data=data))
            else:
                # never preloaded into the zygote: a public task's child must not hold them
                tensors = plan_tensors(self.plan, ids)
                groups.append(TaskGroup(ids, tensors=tensors, data=data, public=False))
        return groups

    def _set_output_caps(self, reference_results: Execution) -> None:
        """What a worker may send back per probe: a few times what the reference sent.

        The reference's own run has only the overall cap; a student's frame over its probe's
        cap is discarded unread and the probe reported as ``output too large``.
        """
        for probe in self.plan.probes():
            raw = reference_results.probes.get(probe.id)
            if raw is None:
                continue
            size = sum(t.numel() * t.element_size() for t in raw.outputs.values())
            self._frame_caps[probe.id] = 4 * size + (256 << 10)
            # a few more than the reference: a wrong extra output is the check's business
            self._tensor_caps[probe.id] = len(raw.outputs) + 8

    def _frame_limit(self, header: dict[str, Any]) -> int | None:
        if header.get("type") != "probe":
            return 1 << 20  # hello, import, task_start/end, done: small by construction
        return self._frame_caps.get(str(header.get("id")))

    # -- execution -------------------------------------------------------------------------
    def _limits(self) -> tuple[dict[str, float], float, dict[str, float]]:
        """Wall-clock seconds per task and per submission, and CPU seconds per trained task.

        A training budget is CPU time, charged from outside the worker (its cgroup or /proc):
        a machine busy with other work slows the wall clock, not that count. The worker also
        stops itself at its budget with a clearer message; the trusted limit sits a little
        above, and the wall-clock deadline only backstops both, generously.
        """
        limits = self.spec.limits
        per_task: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for task in self.spec.tasks:
            seconds = limits.task_seconds
            for check in task.checks:
                if kind(check.kind).trained:
                    seconds = max(seconds, 3 * check.budget_seconds + 30)
                    budget = check.budget_seconds * check.threads + 10
                    cpu[task.id] = cpu.get(task.id, 0.0) + budget
            per_task[task.id] = seconds
        return per_task, max(limits.submission_seconds, sum(per_task.values())), cpu

    def _run(self, source: bytes) -> Execution:
        """Run every task on ``source`` in this grader's next free slot.

        A zygote that died, or whose limits or descriptors no longer are what it was given
        (``Zygote.health_problem``), is replaced before it runs anything; a run that failed
        for a reason of the grader's is retried once on a fresh zygote. Neither is ever
        charged to the student.
        """
        per_task, total, cpu = self._limits()
        forbid = {t.id: list(t.forbid) for t in self.spec.tasks}
        zygote = self._zygotes.get()

        def attempt(z: Zygote) -> Execution:
            z.join_housekeeping()  # the slot is the last run's until it is settled
            # written into the slot's read-only inbox; the worker sees only that copy
            prepared = z.slot.prepare(self.spec.limits, self.spec.student_file, source)
            return execute(
                z,
                Path(prepared.path),
                self.spec.module_name,
                self.plan,
                groups=self._groups,
                forbid=forbid,
                task_seconds=per_task,
                total_seconds=total,
                import_seconds=self.spec.limits.import_seconds,
                confine=prepared.confine,
                threads=self.threads,
                frame_limit=self._frame_limit,
                max_result_bytes=self._max_result_bytes(),
                max_tensors=self._tensor_caps,
                task_cpu_seconds=cpu,
            )

        try:
            if zygote.health_problem():
                zygote = self._restart(zygote)
            try:
                execution = attempt(zygote)
            except SandboxError:
                raise
            except AutograderError:
                # the zygote itself died (killed from outside): replace it and retry once
                zygote = self._restart(zygote)
                execution = attempt(zygote)
            if execution.grader_failure:
                execution.wait_settled()
                zygote = self._restart(zygote)
                retried = attempt(zygote)
                retried.settled = execution.settled + retried.settled
                execution = retried
            return execution
        finally:
            self._zygotes.put(zygote)
            if zygote not in self._all_zygotes:
                self._all_zygotes.append(zygote)

    def _max_result_bytes(self) -> int:
        """All of a run's results: the probes' caps together, or 1 GiB before there are caps
        (the reference's own run)."""
        if not self._frame_caps:
            return 1 << 30
        return sum(self._frame_caps.values()) + (4 << 20)

    @property
    def reference_results(self) -> Execution | None:
        """The reference's raw results for the plan (set on entering the context)."""
        return self._reference

    def _reference_cache_path(self, ref_path: Path) -> Path:
        key = reference.cache_key(
            self.loaded.spec_hash,
            ref_path,
            self._data_hash,
            sorted(self.plan.tasks),
            reference.plan_digest(self.plan),
        )
        return reference.cache_dir() / f"{self.spec.id}-{key}.safetensors"

    def _cached_reference(self) -> Execution | None:
        """The reference results if they need no worker run (fixed or cached), else None."""
        if self._fixed_reference is not None:
            return self._fixed_reference
        ref_path = self.loaded.reference_path
        if ref_path is None or not ref_path.is_file():
            return None
        return reference.load(self._reference_cache_path(ref_path))

    def _warm_scoring(self, ref: Execution) -> None:
        """Score the reference against itself once; the result is thrown away."""
        try:
            for task in self.spec.tasks:
                self._score_task(task, ref, {})
        except Exception:  # noqa: BLE001 - only a warm-up: real scoring reports any problem
            pass

    def _reference_execution(self) -> Execution:
        if self._fixed_reference is not None:
            return self._fixed_reference
        ref_path = self.loaded.reference_path
        if ref_path is None or not ref_path.is_file():
            raise AutograderError(f"reference solution not found: {ref_path}")
        path = self._reference_cache_path(ref_path)
        cached = reference.load(path)
        if cached is not None:
            return cached
        execution = self._run(ref_path.read_bytes())
        execution.wait_settled()
        if execution.import_error:
            raise AutograderError(
                f"the reference solution {ref_path} failed to import: {execution.import_error}"
            )
        # a reference that failed anywhere is a staff problem: report it, never cache it
        if not execution.task_failures and all(p.status == "ok" for p in execution.probes.values()):
            reference.save(path, execution)
        return execution

    # -- grading ---------------------------------------------------------------------------
    def grade(self, path: Path | str, *, display_name: str | None = None) -> Report:
        """Grade one file. Raises SubmissionError only if the file cannot be read at all."""
        return self.grade_source(read_submission(path), display_name or str(path))

    def grade_source(self, source: bytes, name: str) -> Report:
        """Grade a submission's bytes; ``name`` labels the report. Never raises for anything
        the submission does."""
        started, t0 = _now(), time.monotonic()
        sha = hashlib.sha256(source).hexdigest()
        tree, problem = _parse_submission(source)
        if problem:
            tasks = [
                self._task_failure(t, ("import error", f"import error: {problem}"))
                for t in self.spec.tasks
            ]
            return self._report(name, sha, tasks, started, t0, "import error", problem, "", [])
        closure = forbidden.scan_tree(tree) if tree is not None else {}
        execution = self._run(source)
        tasks = [self._score_task(task, execution, closure) for task in self.spec.tasks]
        execution.wait_settled()  # scored while the worker was torn down; now it is gone
        status, message = "graded", ""
        if execution.grader_failure:
            # twice, on two zygotes: a grader problem, recorded so that a rerun grades it again
            status, message = "grader error", f"grader error: {execution.grader_failure}"
            tasks = [self._task_failure(t, (status, message)) for t in self.spec.tasks]
        elif execution.import_error:
            status, message = "import error", execution.import_error
        elif execution.fatal:
            status, message = execution.fatal
        elif any(t.status == "grader error" for t in tasks):
            errors = [t for t in tasks if t.status == "grader error"]
            status, message = "grader error", f"grader error in {errors[0].id}: {errors[0].message}"
        return self._report(
            name, sha, tasks, started, t0, status, message, execution.output, execution.layers
        )

    def grade_many(
        self, items: Iterable[tuple[str, Path | str]]
    ) -> Iterator[tuple[str, Report | SubmissionError]]:
        """Grade many files on all slots; yields (key, Report) in completion order.

        A file that cannot be read yields its ``SubmissionError`` instead of a Report.
        """

        def one(key: str, path: Path | str) -> tuple[str, Report | SubmissionError]:
            try:
                return key, self.grade(path, display_name=key)
            except SubmissionError as exc:
                return key, exc

        pool = ThreadPoolExecutor(self.workers)
        futures = [pool.submit(one, key, path) for key, path in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            # Ctrl-C, a consumer that stopped early, or a grader failure: abandon the runs in
            # progress now rather than waiting out their time budgets.
            self._stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self._stop.clear()  # every run has ended: the warm slots can be used again
            raise
        pool.shutdown(wait=True)

    def _task_failure(self, task, failure: tuple[str, str]) -> TaskResult:
        if task.id in self.skipped:
            return scoring.task_result(
                task, [Outcome.failed("")] * len(task.checks), skipped=self.skipped[task.id]
            )
        return scoring.task_result(task, [Outcome.failed("")] * len(task.checks), failure=failure)

    def _score_task(self, task, execution: Execution, closure) -> TaskResult:
        if task.id in self.skipped:
            return self._task_failure(task, ("skipped", self.skipped[task.id]))
        assert self._reference is not None
        ref_failure = self._reference.task_failures.get(task.id)
        if ref_failure:
            return self._task_failure(
                task,
                (
                    "grader error",
                    f"grader error: the reference solution failed this task ({ref_failure[1]})",
                ),
            )
        failure = execution.task_failures.get(task.id)
        if failure:
            return self._task_failure(task, failure)
        runtime: dict[str, list[str]] = {}  # check id -> what the guard saw in its probes
        outcomes = []
        seconds = 0.0
        probes = self.plan.tasks[task.id]
        for check in task.checks:
            pairs = []
            for probe in (p for p in probes if p.check == check.id):
                student = execution.probes.get(
                    probe.id, ProbeRaw("error", "no result was produced")
                )
                ref = self._reference.probes.get(
                    probe.id, ProbeRaw("grader error", "no reference result")
                )
                runtime.setdefault(check.id, []).extend(student.violations)
                seconds += student.seconds
                pairs.append(ProbePair(probe, student, ref, self._truth))
            if not pairs:
                # a check with nothing to compare must never pass by omission (the plan
                # refuses such checks; this holds for kits and fixed plans too)
                outcomes.append(
                    Outcome.failed(
                        "the grader has nothing to compare for this check; staff have been told",
                        status="grader error",
                        detail=f"no probes for {task.id}/{check.id}",
                    )
                )
                continue
            outcome = kind(check.kind).evaluate(self.spec, check, pairs)
            if kind(check.kind).trained:
                _note_machine_load(outcome, execution, task.id)
            outcomes.append(outcome)
        charged = forbidden.charges(closure or None, task, runtime, execution)
        return scoring.task_result(task, outcomes, forbidden=charged, seconds=seconds)

    def _report(
        self,
        name: str,
        sha: str,
        tasks: list[TaskResult],
        started: datetime,
        t0: float,
        status: str,
        message: str,
        output: str,
        layers: list[str],
    ) -> Report:
        score = sum((Fraction(t.score_exact) for t in tasks), Fraction(0))
        return Report(
            assignment=self.spec.id,
            title=self.spec.title,
            submission=name,
            sha256=sha,
            score=display_points(score),
            max_score=display_points(self.spec.points),
            score_exact=fraction_str(score),
            max_score_exact=fraction_str(self.spec.points),
            tasks=tasks,
            grader_version=__version__,
            spec_hash=self.loaded.spec_hash,
            isolation={
                **sandbox.isolation_summary(self.caps, self.insecure),
                "worker_layers": layers,
            },
            submission_status=status,
            submission_message=message[:2000],
            started_at=started.isoformat(),
            finished_at=_now().isoformat(),
            seconds=round(time.monotonic() - t0, 4),
            stdout_tail=output[-4000:],
        )


def _parse_submission(source: bytes) -> tuple[ast.Module | None, str | None]:
    """The file's AST, or why it cannot even be imported (judged without running it).

    The text is the one the worker compiles (``wire.source``: UTF-8 only, whatever a coding
    cookie declares), so the scan reads exactly the code that runs."""
    if not source.strip():
        return None, "the file is empty"
    try:
        text = submission_source.decode(source)
    except submission_source.SourceError as exc:
        return None, str(exc)
    try:
        return pysource.parse(text), None
    except SyntaxError as exc:
        return None, f"SyntaxError: {exc.msg} (line {exc.lineno})" if exc.lineno else exc.msg


def _note_machine_load(outcome: Outcome, execution: Execution, task_id: str) -> None:
    """Put the task's CPU and wall time, measured from outside the worker, in a trained
    check's metrics, and say so when the machine, not the submission, was slow."""
    cpu = execution.task_cpu_seconds.get(task_id)
    wall = execution.task_wall_seconds.get(task_id)
    if cpu is None or wall is None:
        return
    outcome.metrics["task_cpu_seconds"] = round(cpu, 3)
    outcome.metrics["task_wall_seconds"] = round(wall, 3)
    slowed = wall > 1.5 * cpu + 5
    outcome.metrics["slowed_by_machine"] = slowed
    if slowed:
        outcome.message += (
            f" (the machine was busy: {wall:.0f} s of wall time for {cpu:.0f} s of CPU; "
            "budgets count CPU time, so this cost nothing)"
        )
