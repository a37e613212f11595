"""Grade a folder of submissions into a gradebook: discover, skip what is done, grade, record.

Every result is committed as soon as it arrives, so an interrupted batch (Ctrl-C, SIGKILL, a
full disk) keeps everything recorded so far and a rerun grades only what is missing. Discovery
problems and grader failures are recorded as "failed to grade" attempts with their reason.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from autograder import tempdirs
from autograder.batch import machine
from autograder.batch.intake import Discovery, Submission, discover
from autograder.errors import (
    AutograderError,
    GradebookError,
    SubmissionError,
    WorkerProtocolError,
)
from autograder.gradebook import UNIDENTIFIED, Gradebook, Policy
from autograder.points import display_points
from autograder.report import Report
from autograder.safe_text import plain
from autograder.submission import MAX_FILE_BYTES
from autograder.version import __version__

# After this many submissions in a row crash the grader the same way, stop instead of
# recording the same failure against every student.
_SAME_CRASH_LIMIT = 3
# A manifest's claimed time this far from the trusted one is shown (clocks drift a little).
CLAIM_SLACK = timedelta(minutes=5)


class GraderLike(Protocol):
    """What the batch needs from ``autograder.trusted.engine.Grader`` (a context manager)."""

    def __enter__(self) -> GraderLike: ...

    def __exit__(self, *exc: object) -> Any: ...

    def grade(self, path: Path) -> Report: ...

    def grade_many(
        self, items: Iterable[tuple[str, Path]]
    ) -> Iterator[tuple[str, Report | SubmissionError]]: ...


GraderFactory = Callable[..., GraderLike]


class Failure(BaseModel):
    """A submission recorded as failed to grade in this run."""

    student_id: str
    source: str
    reason: str


class Claim(BaseModel):
    """A manifest's ``submitted_at`` that disagrees with the trusted time (information only)."""

    student_id: str
    source: str
    claimed: datetime
    trusted: datetime
    time_source: str


class BatchSummary(BaseModel):
    """What one batch run did; counted statistics cover the whole gradebook afterwards.

    ``timed_by`` counts the found submissions per time source (``intake.Submission``).
    """

    assignment: str
    found: int = 0
    timed_by: dict[str, int] = {}
    time_notes: list[str] = []
    claims: list[Claim] = []
    graded: int = 0
    skipped: int = 0
    failures: list[Failure] = []
    ignored: list[str] = []
    scores: list[float] = []
    counted_students: int = 0
    counted_mean: float | None = None
    counted_median: float | None = None
    max_score: float = 0.0
    interrupted: bool = False
    seconds: float = 0.0


def _spec(assignment: Any) -> Any:
    """``load_assignment`` returns the spec wrapped with its hash; unwrap when wrapped."""
    return getattr(assignment, "spec", assignment)


# Memory one worker takes beyond the batch itself: its grader process (lane) and zygote, about
# 0.9 GB together with the benchmark images on the 2-core VM, plus room for the child it runs.
WORKER_BYTES = 1536 * 1024 * 1024


def _cores() -> int:
    """Cores this process may use: its CPU set, within its cgroup's CPU quota."""
    return machine.usable_cores()


def _available_memory() -> int | None:
    """Bytes new work can use (MemAvailable, within the cgroup's limit); None if unknown."""
    return machine.available_memory()


def default_workers() -> tuple[int, str]:
    """Workers for a batch that did not ask for a number, and why if fewer than the cores.

    One per core, but no more than the available memory holds (``WORKER_BYTES`` each): a
    laptop with many cores and little memory would otherwise swap or meet the OOM killer.
    """
    cores = _cores()
    memory = _available_memory()
    if memory is None or memory >= cores * WORKER_BYTES:
        return cores, ""
    fit = max(1, memory // WORKER_BYTES)
    return fit, (
        f"{fit} worker{'s' if fit > 1 else ''}, not {cores}: {memory / 2**30:.1f} GB of memory "
        f"is available and a worker needs about {WORKER_BYTES / 2**30:.1f} GB "
        "(--workers N overrides)"
    )


def _default_factory(cluster: str | None = None) -> GraderFactory:
    if cluster:
        from autograder.batch.cluster import grader_for as on_cluster

        return functools.partial(on_cluster, address=cluster)
    from autograder.batch.lanes import grader_for

    return grader_for


class _Rate(ProgressColumn):
    """Submissions per minute over the whole run: results arrive in bursts when several
    workers finish together, so a windowed speed would jump around."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if not task.completed or elapsed <= 0:
            return Text("-- /min", style="cyan")
        return Text(f"{task.completed / elapsed * 60:.1f} /min", style="cyan")


class _Eta(ProgressColumn):
    """Time left at the average rate so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if task.finished:
            return Text("done", style="green")
        if not task.completed or elapsed <= 0 or task.total is None:
            return Text("ETA --:--", style="dim")
        left = (task.total - task.completed) * elapsed / task.completed
        return Text(f"ETA {int(left // 60)}:{int(left % 60):02d}", style="dim")


class _Run:
    def __init__(self, assignment: Any, gradebook: Gradebook, summary: BatchSummary) -> None:
        self.assignment = assignment
        self.id = assignment.id
        self.spec_hash = assignment.spec_hash
        self.gradebook = gradebook
        self.summary = summary

    def fail(self, student_id: str, sha256: str, source: str, reason: str, submitted_at=None):
        self.gradebook.record_failure(
            assignment=self.id,
            student_id=student_id,
            sha256=sha256,
            reason=reason,
            source=source,
            submitted_at=submitted_at,
            spec_hash=self.spec_hash,
            grader_version=__version__,
        )
        self.summary.failures.append(Failure(student_id=student_id, source=source, reason=reason))

    def done(self, sub: Submission, report: Report | SubmissionError) -> None:
        if isinstance(report, SubmissionError):  # the engine could not read the file
            self.fail(sub.student_id, sub.sha256, sub.source, str(report), sub.submitted_at)
            return
        self.gradebook.record(
            report, student_id=sub.student_id, submitted_at=sub.submitted_at, source=sub.source
        )
        if report.submission_status == "grader error":
            self.summary.failures.append(
                Failure(
                    student_id=sub.student_id,
                    source=sub.source,
                    reason=report.submission_message or "grader error",
                )
            )
        else:
            self.summary.graded += 1
            self.summary.scores.append(report.score)


def _note_times(summary: BatchSummary, found: Discovery) -> None:
    """Where the submission times come from, and the manifest claims that disagree."""
    for sub in found.submissions:
        summary.timed_by[sub.time_source] = summary.timed_by.get(sub.time_source, 0) + 1
        if sub.claimed_at and sub.submitted_at:
            if abs(sub.claimed_at - sub.submitted_at) > CLAIM_SLACK:
                summary.claims.append(
                    Claim(
                        student_id=sub.student_id,
                        source=sub.source,
                        claimed=sub.claimed_at,
                        trusted=sub.submitted_at,
                        time_source=sub.time_source,
                    )
                )
    summary.time_notes = list(found.time_notes)


def _record_discovery(run: _Run, found: Discovery) -> None:
    for problem in found.problems:
        student = problem.student_id or UNIDENTIFIED + problem.location
        run.fail(student, problem.key, problem.location, problem.message)


def _to_grade(
    run: _Run, found: Discovery, regrade: bool, skip_benchmarks: bool = False
) -> list[Submission]:
    pending = []
    for sub in found.submissions:
        if not regrade and run.gradebook.is_graded(
            assignment=run.id,
            student_id=sub.student_id,
            sha256=sub.sha256,
            spec_hash=run.spec_hash,
            grader_version=__version__,
        ):
            if not skip_benchmarks and _had_skipped_tasks(run, sub):
                pending.append(sub)  # graded with --skip-benchmarks: now run what was skipped
            else:
                run.summary.skipped += 1
        else:
            pending.append(sub)
    return pending


def _had_skipped_tasks(run: _Run, sub: Submission) -> bool:
    for attempt in run.gradebook.attempts(run.id, sub.student_id):
        if attempt.sha256 == sub.sha256 and attempt.spec_hash == run.spec_hash and attempt.report:
            if any(task.status == "skipped" for task in attempt.report.tasks):
                return True
    return False


def _fatal(exc: BaseException) -> bool:
    """Errors about the grader's own inputs (spec, data, reference, gradebook) stop the batch:
    they would fail every student alike. A submission's own unreadable file does not."""
    return isinstance(exc, AutograderError) and not isinstance(
        exc, SubmissionError | WorkerProtocolError
    )


def _grade_all(
    run: _Run,
    pending: dict[str, Submission],
    make_grader: Callable[[], Any],
    advance: Callable[[], None],
) -> None:
    """Grade everything in ``pending`` (emptied as results are recorded).

    The fast path streams the lot through ``grade_many``. If the grader itself breaks, the
    rest is graded one by one in fresh graders so the culprit is recorded and the batch goes on.
    """
    try:
        with make_grader() as grader:
            items = [(key, sub.path) for key, sub in pending.items()]
            for key, outcome in grader.grade_many(items):
                run.done(pending.pop(key), outcome)
                advance()
        return
    except Exception as exc:  # noqa: BLE001 - a grader-internal crash: isolate it below
        if _fatal(exc):
            raise
    last_error, same = "", 0
    while pending:
        try:
            with make_grader() as grader:
                while pending:
                    key = next(iter(pending))
                    try:
                        outcome: Report | SubmissionError = grader.grade(pending[key].path)
                    except SubmissionError as exc:
                        outcome = exc
                    run.done(pending.pop(key), outcome)
                    advance()
                    same = 0
        except Exception as exc:  # noqa: BLE001 - recorded against the submission
            if _fatal(exc):
                raise
            sub = pending.pop(next(iter(pending)))
            error = f"grader crashed: {type(exc).__name__}: {exc}"
            run.fail(sub.student_id, sub.sha256, sub.source, error, sub.submitted_at)
            advance()
            same = same + 1 if error == last_error else 1
            last_error = error
            if same >= _SAME_CRASH_LIMIT and pending:
                raise AutograderError(
                    f"the grader crashed on {same} submissions in a row ({error}); stopped "
                    f"with {len(pending)} left: fix the grader and rerun"
                ) from None


def _counted_stats(run: _Run, policy: Policy) -> None:
    counted = [a for a in run.gradebook.counted(run.id, policy).values() if a.status == "graded"]
    run.summary.counted_students = len(counted)
    if counted:
        scores = [a.score for a in counted]
        run.summary.counted_mean = display_points(sum(scores, Fraction(0)) / len(scores))
        run.summary.counted_median = display_points(Fraction(statistics.median(scores)))


def run_batch(
    assignment: Any,
    root: Path,
    gradebook: Gradebook,
    *,
    workers: int | None = None,
    regrade: bool = False,
    skip_benchmarks: bool = False,
    policy: Policy = "latest",
    grader_factory: GraderFactory | None = None,
    grader_options: dict[str, Any] | None = None,
    console: Console | None = None,
    times: Mapping[str, datetime] | None = None,
    cluster: str | None = None,
) -> BatchSummary:
    """Grade every submission under ``root`` into ``gradebook``.

    Args:
        assignment: What ``load_assignment`` returned (``.id``, ``.spec_hash``, spec fields).
        root: The submissions folder (layouts: ``autograder.batch.intake``).
        gradebook: Where results go; each one is committed as it arrives.
        workers: Grader worker processes; default: the number of cores.
        regrade: Grade again what is already graded with the same file, spec and grader.
        skip_benchmarks: Passed to the grader.
        policy: Which attempt counts, for the closing statistics.
        grader_factory: ``autograder.trusted.engine.Grader`` or a stand-in with its signature.
        grader_options: Extra keyword arguments for the grader (course, data_root, insecure).
        console: Where progress and the summary go.
        times: Each student's submission time from the LMS export (``times_csv``); None:
            each file is timed by when the collection received it (``intake``).
        cluster: A Dask scheduler's address (``tcp://HOST:8786``): grade there, not on local
            lanes (``autograder.batch.cluster``); ``workers`` is then the cluster's own.

    Returns:
        The summary (also printed). ``interrupted`` is set after Ctrl-C.

    Raises:
        GradebookError: The gradebook cannot be written (results so far are kept).
        AutograderError: A spec, data or repeated grader problem that would fail everyone.
    """
    console = console or Console()
    spec = _spec(assignment)
    factory = grader_factory or _default_factory(cluster)
    if cluster:
        workers = workers or 1  # not used: the cluster's workers are started with it
    elif not workers:
        workers, why = default_workers()
        if why:
            console.print(Text(why, style="yellow"))
    summary = BatchSummary(assignment=assignment.id, max_score=display_points(spec.points))
    run = _Run(assignment, gradebook, summary)
    started = time.monotonic()
    try:
        with tempdirs.OwnedDir("autograder-batch-") as scratch:
            found = discover(
                root,
                spec.student_file,
                extract_dir=Path(scratch),
                assignment_id=assignment.id,
                max_bytes=MAX_FILE_BYTES,  # the engine's limit: refuse early
                times=times,
            )
            summary.found = len(found.submissions)
            _note_times(summary, found)
            summary.ignored = found.ignored
            _record_discovery(run, found)
            pending = {
                str(i): sub for i, sub in enumerate(_to_grade(run, found, regrade, skip_benchmarks))
            }
            if pending:
                options = dict(grader_options or {})
                with Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    _Rate(),
                    TimeElapsedColumn(),
                    _Eta(),
                    console=console,
                ) as bar:
                    task = bar.add_task(f"grading {assignment.id}", total=len(pending))
                    _grade_all(
                        run,
                        pending,
                        lambda: factory(
                            assignment,
                            workers=min(workers, len(pending)),
                            skip_benchmarks=skip_benchmarks,
                            **options,
                        ),
                        lambda: bar.advance(task),
                    )
    except KeyboardInterrupt:
        summary.interrupted = True
    except GradebookError:
        summary.seconds = time.monotonic() - started
        print_summary(summary, console)
        raise
    summary.seconds = time.monotonic() - started
    _counted_stats(run, policy)
    print_summary(summary, console)
    return summary


def _print_times(summary: BatchSummary, console: Console) -> None:
    received = summary.timed_by.get("received", 0)
    lms = summary.timed_by.get("lms export", 0)
    if received or lms:
        parts = [f"{lms} from the LMS export"] if lms else []
        if received:
            parts.append(
                f"{received} by when the collection received the file (its ctime: a copied "
                "folder resets it; grade the collection in place or pass --times)"
            )
        console.print(Text(f"submission times: {'; '.join(parts)}", style="dim"), soft_wrap=True)
    for note in summary.time_notes:
        console.print(Text.assemble(("times: ", "yellow"), plain(note)), soft_wrap=True)
    if summary.claims:
        table = Table(
            title="Manifest times that differ from the trusted time (not used)",
            title_justify="left",
        )
        for header in ("student", "source", "manifest says", "trusted time"):
            table.add_column(header, overflow="fold")
        for claim in summary.claims:
            table.add_row(
                plain(claim.student_id),
                plain(claim.source),
                Text(claim.claimed.isoformat(" ", "seconds")),
                Text(f"{claim.trusted.isoformat(' ', 'seconds')} ({claim.time_source})"),
            )
        console.print(table)


def print_summary(summary: BatchSummary, console: Console) -> None:
    """The closing tables: counts, score statistics, and every failure with its reason."""
    table = Table(title=f"Batch {summary.assignment}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    scores = summary.scores
    rows = [
        ("gradable submissions found", str(summary.found)),
        ("graded now", str(summary.graded)),
        ("skipped (already graded)", str(summary.skipped)),
        ("failed to grade", str(len(summary.failures))),
        (
            "mean / median, graded now",
            f"{statistics.fmean(scores):.2f} / {statistics.median(scores):.2f}" if scores else "-",
        ),
        ("students counted (gradebook)", str(summary.counted_students)),
        (
            "mean / median, counted",
            "-"
            if summary.counted_mean is None
            else f"{summary.counted_mean:.2f} / {summary.counted_median:.2f}",
        ),
        ("out of", f"{summary.max_score:g}"),
        ("time", f"{summary.seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    if summary.failures:
        failed = Table(title="Failed to grade", title_justify="left")
        failed.add_column("student")
        failed.add_column("source")
        failed.add_column("reason", overflow="fold")
        for f in summary.failures:
            failed.add_row(plain(f.student_id), plain(f.source), plain(f.reason))
        console.print(failed)
    if summary.ignored:
        console.print(plain(f"ignored (not submissions): {', '.join(summary.ignored)}", "dim"))
    _print_times(summary, console)
    if summary.interrupted:
        console.print(
            Text(
                "interrupted: everything recorded so far is kept; rerun the same "
                "command to grade the rest",
                style="yellow",
            )
        )
