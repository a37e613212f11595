"""The course rubric: what each component is worth, deadlines, and the final-grade rule.

The rubric is data (``<course>/rubrics/course.toml``) validated here. Every problem comes out as
one ``SpecError`` with one line per problem naming the file, the field path and the problem.
Points are exact fractions; floats in TOML are read by their decimal text (``0.1`` is 1/10).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from autograder.errors import SpecError
from autograder.points import fraction_str, to_fraction
from autograder.spec.locate import parse_toml, where

Points = Annotated[Fraction, BeforeValidator(to_fraction)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerDayPenalty(_Model):
    """Each day started after the deadline (plus grace) costs a fixed penalty.

    Exactly one of ``points_per_day`` (rubric points) or ``fraction_per_day`` (of the
    component's maximum) is set. Late by more than ``max_days`` days started scores 0.
    """

    kind: Literal["per_day"]
    points_per_day: Points | None = None
    fraction_per_day: Points | None = None
    max_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_rate(self) -> PerDayPenalty:
        rates = [r for r in (self.points_per_day, self.fraction_per_day) if r is not None]
        if len(rates) != 1:
            raise ValueError("set exactly one of points_per_day or fraction_per_day")
        if rates[0] < 0:
            raise ValueError("the per-day penalty must not be negative")
        if self.fraction_per_day is not None and self.fraction_per_day > 1:
            raise ValueError("fraction_per_day is a fraction of the maximum: at most 1")
        return self

    def per_day(self, max_points: Fraction) -> Fraction:
        """The penalty in points for each day started."""
        if self.points_per_day is not None:
            return self.points_per_day
        return self.fraction_per_day * max_points


class HardCutoff(_Model):
    """Nothing is accepted after the deadline (plus grace): a late submission scores 0."""

    kind: Literal["cutoff"]


LatePolicy = Annotated[PerDayPenalty | HardCutoff, Field(discriminator="kind")]


class Component(_Model):
    """One graded part of the course: a homework (from the gradebook) or the exam (from a CSV)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1)
    kind: Literal["homework", "exam"]
    max_points: Points = Field(gt=0)
    deadline: AwareDatetime | None = None
    grace_minutes: int = Field(default=0, ge=0)
    late: LatePolicy | None = None

    @model_validator(mode="after")
    def _deadline_for_homework(self) -> Component:
        # A homework without a deadline has no late penalty (the shipped rubric leaves them
        # unset: last term's dates would zero every submission of this one).
        if self.kind == "homework":
            if self.deadline is not None and self.late is None:
                raise ValueError(
                    'a homework with a deadline needs a late policy (kind "per_day" or "cutoff")'
                )
        elif self.deadline is not None or self.late is not None or self.grace_minutes:
            raise ValueError("an exam has no deadline, grace_minutes or late policy")
        return self


class Extension(_Model):
    """A per-student deadline change: a new deadline or extra days on the rubric's deadline."""

    student_id: str = Field(min_length=1)
    component: str
    deadline: AwareDatetime | None = None
    extra_days: int | None = Field(default=None, gt=0)
    reason: str = ""

    @model_validator(mode="after")
    def _one_change(self) -> Extension:
        if (self.deadline is None) == (self.extra_days is None):
            raise ValueError("set exactly one of deadline or extra_days")
        return self

    def applied_to(self, deadline: datetime | None) -> datetime | None:
        """The extended deadline (None: extra days on a component without a deadline)."""
        if self.deadline is not None:
            return self.deadline
        return None if deadline is None else deadline + timedelta(days=self.extra_days)


class FinalGradeRule(_Model):
    """final = round_half_up(total / divisor), then at most ``cap`` (None: no cap)."""

    divisor: Points = Field(gt=0)
    rounding: Literal["half_up"] = "half_up"
    cap: int | None = Field(default=None, gt=0)
    scale_max: int = Field(gt=0)

    @model_validator(mode="after")
    def _cap_on_scale(self) -> FinalGradeRule:
        if self.cap is not None and self.cap > self.scale_max:
            raise ValueError(f"cap {self.cap} is above scale_max {self.scale_max}")
        return self


class CourseInfo(_Model):
    title: str = Field(min_length=1)
    max_points: Points | None = Field(default=None, gt=0)


class Rubric(_Model):
    """The whole course rubric."""

    course: CourseInfo
    final_grade: FinalGradeRule
    components: list[Component] = Field(min_length=1)
    extensions: list[Extension] = Field(default_factory=list)
    _source: str = PrivateAttr(default="<rubric>")

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [c.id for c in self.components]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"component ids must be unique: {', '.join(duplicates)} repeated")
        exams = [c.id for c in self.components if c.kind == "exam"]
        if len(exams) > 1:
            raise ValueError(f"at most one exam component (the exam CSV fills it), got {exams}")
        total = sum((c.max_points for c in self.components), Fraction(0))
        declared = self.course.max_points
        if declared is not None and total != declared:
            raise ValueError(
                f"component max_points add up to {fraction_str(total)}, but "
                f"course.max_points = {fraction_str(declared)}"
            )
        homeworks = {c.id for c in self.components if c.kind == "homework"}
        seen: set[tuple[str, str]] = set()
        for ext in self.extensions:
            if ext.component not in homeworks:
                raise ValueError(
                    f"extension for {ext.student_id!r}: {ext.component!r} is not a homework "
                    f"component (homeworks: {', '.join(sorted(homeworks))})"
                )
            key = (ext.student_id, ext.component)
            if key in seen:
                raise ValueError(f"two extensions for {ext.student_id!r} on {ext.component!r}")
            seen.add(key)
        return self

    @property
    def source(self) -> str:
        """The file this rubric was read from."""
        return self._source

    def where(self, component_id: str, name: str) -> str:
        """One component's field as located errors name it: ``components[0] (id 'hw1').deadline``."""
        raw = {"components": [{"id": c.id, name: None} for c in self.components]}
        index = [c.id for c in self.components].index(component_id)
        return where(raw, ("components", index, name))

    @property
    def max_points(self) -> Fraction:
        return sum((c.max_points for c in self.components), Fraction(0))

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    @property
    def homeworks(self) -> list[Component]:
        return [c for c in self.components if c.kind == "homework"]

    @property
    def exam(self) -> Component | None:
        return next((c for c in self.components if c.kind == "exam"), None)

    def extension(self, student_id: str, component_id: str) -> Extension | None:
        return next(
            (
                e
                for e in self.extensions
                if (e.student_id, e.component) == (student_id, component_id)
            ),
            None,
        )


def parse_rubric(text: str, source: str) -> Rubric:
    """Validate rubric TOML text; ``source`` names the file in every error line."""
    rubric, _ = parse_toml(Rubric, text, source)
    rubric._source = source
    return rubric


def load_rubric(path: Path | None = None, course_dir: Path | None = None) -> Rubric:
    """Read and validate the rubric.

    Args:
        path: The rubric file. Default: ``<course>/rubrics/course.toml``.
        course_dir: The course folder when ``path`` is not given; default: ``find_course()``.

    Raises:
        SpecError: The file is missing, unreadable, not TOML, or invalid (every problem listed).
    """
    if path is None:
        if course_dir is None:
            from autograder.spec.course import find_course

            course_dir = find_course().root
        path = Path(course_dir) / "rubrics" / "course.toml"
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: rubric file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the rubric: {exc}") from None
    return parse_rubric(text, str(path))


def check_assignment_points(
    rubric: Rubric, assignment_id: str, points: Fraction, source: str
) -> None:
    """Raise ``SpecError`` when a homework spec's points disagree with the rubric.

    An assignment the rubric does not list (a practice sheet) is not a course component and
    passes; the final grade ignores it and says so.
    """
    component = rubric.component(assignment_id)
    if component is None:
        return
    if component.kind != "homework":
        raise SpecError(
            f"{source}: assignment {assignment_id!r} is the {component.kind} component in "
            f"{rubric.source}, not a homework"
        )
    if Fraction(points) != component.max_points:
        raise SpecError(
            f"{source}: points = {fraction_str(Fraction(points))}, but the rubric "
            f"{rubric.source} gives {assignment_id} {fraction_str(component.max_points)} points"
        )
