"""The course rubric: the shipped file, validation errors, and the spec/rubric points check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from autograder.errors import SpecError
from autograder.final.rubric import (
    HardCutoff,
    PerDayPenalty,
    check_assignment_points,
    load_rubric,
    parse_rubric,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "rubrics" / "course.toml"

HEAD = """
[course]
title = "Test"
{max_line}

[final_grade]
divisor = 10
rounding = "half_up"
cap = 10
scale_max = 10
"""

HW = """
[[components]]
id = "{id}"
title = "Homework {id}"
kind = "homework"
max_points = {points}
deadline = 2025-10-05T23:59:00+03:00
late = {{ kind = "cutoff" }}
"""

EXAM = """
[[components]]
id = "exam"
title = "Exam"
kind = "exam"
max_points = 40
"""


def rubric_text(*homeworks: tuple[str, str], max_points: str | None = None, tail: str = "") -> str:
    max_line = f"max_points = {max_points}" if max_points is not None else ""
    body = "".join(HW.format(id=i, points=p) for i, p in homeworks)
    return HEAD.format(max_line=max_line) + body + EXAM + tail


def errors_of(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_rubric(text, "rubrics/course.toml")
    lines = str(info.value).splitlines()
    assert all(line.startswith("rubrics/course.toml: ") for line in lines), lines
    return lines


def test_shipped_rubric_is_the_course_scheme():
    rubric = load_rubric(SHIPPED)
    points = {c.id: c.max_points for c in rubric.components}
    assert points == {"hw1": 15, "hw2": 10, "hw3": 15, "hw4": 15, "hw5": 10, "hw6": 10, "exam": 40}
    assert rubric.max_points == rubric.course.max_points == 115
    rule = rubric.final_grade
    assert (rule.divisor, rule.rounding, rule.cap, rule.scale_max) == (10, "half_up", 10, 10)
    assert rubric.exam.id == "exam"
    assert [c.id for c in rubric.homeworks] == ["hw1", "hw2", "hw3", "hw4", "hw5", "hw6"]
    for hw in rubric.homeworks:
        # shipped unset: last term's dates would zero every submission of this one
        assert hw.deadline is None
        assert hw.late is not None
    assert rubric.source == str(SHIPPED)


def test_shipped_deadline_lines_need_only_the_year():
    text = SHIPPED.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("# deadline = YYYY-")]
    assert len(lines) == 6
    dated = text.replace("# deadline = YYYY-", "deadline = 2031-")
    rubric = parse_rubric(dated, "rubrics/course.toml")
    for hw in rubric.homeworks:
        assert hw.deadline.year == 2031 and hw.deadline.tzinfo is not None
    # uncommented without the year, the file is refused, naming the line
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_rubric(text.replace("# deadline = YYYY-", "deadline = YYYY-", 1), "course.toml")


def test_load_from_course_dir(tmp_path):
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "course.toml").write_text(rubric_text(("hw1", "15")))
    rubric = load_rubric(course_dir=tmp_path)
    assert rubric.max_points == 55
    assert rubric.source.endswith("course.toml")


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(SpecError, match=r"nope\.toml: rubric file not found"):
        load_rubric(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[course\n")
    with pytest.raises(SpecError, match=r"bad\.toml: not valid TOML"):
        load_rubric(bad)


def test_exact_points_from_toml_numbers():
    rubric = parse_rubric(rubric_text(("hw1", "0.1"), ("hw2", '"1/3"')), "r.toml")
    assert rubric.component("hw1").max_points == Fraction(1, 10)
    assert rubric.component("hw2").max_points == Fraction(1, 3)


def test_sum_must_match_declared_maximum():
    (line,) = errors_of(rubric_text(("hw1", "15"), ("hw2", "10"), max_points="115"))
    assert "add up to 65" in line and "course.max_points = 115" in line
    parse_rubric(rubric_text(("hw1", "15"), ("hw2", "10"), max_points="65"), "r.toml")


def test_each_problem_is_one_located_line():
    text = rubric_text(("hw1", "15"), ("hw2", "0"), ("hw3", '"abc"'))
    text = text.replace('title = "Homework hw1"', 'title = "Homework hw1"\ncolour = "red"')
    lines = errors_of(text)
    assert len(lines) == 3
    assert any(
        "components[0] (id 'hw1').colour: Extra inputs are not permitted" in x for x in lines
    )
    assert any(
        "components[1] (id 'hw2').max_points: Input should be greater than 0" in x for x in lines
    )
    assert any(
        "components[2] (id 'hw3').max_points: 'abc' is not a finite number" in x for x in lines
    )


def test_duplicate_ids():
    (line,) = errors_of(rubric_text(("hw1", "15"), ("hw1", "10")))
    assert "component ids must be unique: hw1 repeated" in line


def test_a_deadline_is_optional_aware_and_needs_a_late_policy():
    no_deadline = rubric_text(("hw1", "15")).replace("deadline = 2025-10-05T23:59:00+03:00\n", "")
    rubric = parse_rubric(no_deadline, "rubrics/course.toml")
    assert rubric.component("hw1").deadline is None  # no late penalty
    assert rubric.where("hw1", "deadline") == "components[0] (id 'hw1').deadline"
    naive = rubric_text(("hw1", "15")).replace("+03:00", "")
    (line,) = errors_of(naive)
    assert "components[0] (id 'hw1').deadline" in line and "timezone" in line
    no_late = rubric_text(("hw1", "15")).replace('late = { kind = "cutoff" }\n', "")
    assert "with a deadline needs a late policy" in errors_of(no_late)[0]
    neither = no_deadline.replace('late = { kind = "cutoff" }\n', "")
    assert parse_rubric(neither, "course.toml").component("hw1").late is None


def test_exam_has_no_deadline():
    text = rubric_text(("hw1", "15")) + "deadline = 2025-10-05T23:59:00+03:00\n"
    assert "an exam has no deadline" in errors_of(text)[0]


def test_late_policies():
    text = rubric_text(("hw1", "15"), ("hw2", "10"))
    text = text.replace(
        'late = { kind = "cutoff" }',
        'late = { kind = "per_day", fraction_per_day = "1/10", max_days = 3 }',
        1,
    )
    rubric = parse_rubric(text, "r.toml")
    hw1, hw2 = rubric.component("hw1"), rubric.component("hw2")
    assert isinstance(hw1.late, PerDayPenalty) and hw1.late.per_day(hw1.max_points) == Fraction(
        3, 2
    )
    assert isinstance(hw2.late, HardCutoff)
    both = text.replace(
        'fraction_per_day = "1/10"', 'fraction_per_day = "1/10", points_per_day = 1'
    )
    assert "exactly one of points_per_day or fraction_per_day" in errors_of(both)[0]
    unknown = rubric_text(("hw1", "15")).replace('"cutoff"', '"soft"')
    assert "components[0] (id 'hw1').late" in errors_of(unknown)[0]


def test_extensions():
    tail = """
[[extensions]]
student_id = "s1"
component = "hw1"
extra_days = 2
reason = "medical"

[[extensions]]
student_id = "s2"
component = "hw1"
deadline = 2025-10-10T12:00:00+00:00
"""
    rubric = parse_rubric(rubric_text(("hw1", "15"), tail=tail), "r.toml")
    deadline = rubric.component("hw1").deadline
    assert rubric.extension("s1", "hw1").applied_to(deadline) == deadline + timedelta(days=2)
    assert rubric.extension("s2", "hw1").applied_to(deadline) == datetime(
        2025, 10, 10, 12, tzinfo=UTC
    )
    assert rubric.extension("s3", "hw1") is None

    on_exam = tail.replace('component = "hw1"\nextra_days', 'component = "exam"\nextra_days')
    assert (
        "'exam' is not a homework component"
        in errors_of(rubric_text(("hw1", "15"), tail=on_exam))[0]
    )
    twice = tail.replace('"s2"', '"s1"')
    assert (
        "two extensions for 's1' on 'hw1'" in errors_of(rubric_text(("hw1", "15"), tail=twice))[0]
    )
    both = tail.replace("extra_days = 2", "extra_days = 2\ndeadline = 2025-10-10T12:00:00Z")
    (line,) = errors_of(rubric_text(("hw1", "15"), tail=both))
    assert "extensions[0]: set exactly one of deadline or extra_days" in line


def test_cap_on_the_scale():
    text = rubric_text(("hw1", "15")).replace("cap = 10", "cap = 12")
    assert "final_grade: cap 12 is above scale_max 10" in errors_of(text)[0]
    uncapped = parse_rubric(rubric_text(("hw1", "15")).replace("cap = 10\n", ""), "r.toml")
    assert uncapped.final_grade.cap is None


def test_check_assignment_points():
    rubric = load_rubric(SHIPPED)
    check_assignment_points(rubric, "hw1", Fraction(15), "assignments/hw1.toml")
    check_assignment_points(rubric, "practice", Fraction(3), "assignments/practice.toml")
    with pytest.raises(SpecError) as info:
        check_assignment_points(rubric, "hw2", Fraction(12), "assignments/hw2.toml")
    message = str(info.value)
    assert message.startswith("assignments/hw2.toml: points = 12")
    assert "gives hw2 10 points" in message and str(SHIPPED) in message
    with pytest.raises(SpecError, match="is the exam component"):
        check_assignment_points(rubric, "exam", Fraction(40), "assignments/exam.toml")
