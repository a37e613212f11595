"""The TA report: page sections, escaping, self-containment, and the PNG plots."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from report_factory import make_report, sha

from autograder.errors import AutograderError
from autograder.gradebook import open_gradebook
from autograder.views.html import collect, write_report

T0 = datetime(2025, 3, 1, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def book(tmp_path: Path):
    gb = open_gradebook(tmp_path / "gb.sqlite")
    curve = {
        "loss_curve": [2.0, 1.0, 0.5],
        "reference_loss_curve": [2.0, 0.8, 0.3],
        "accuracy": 0.7,
        "reference_accuracy": 0.85,
    }
    for i, scores in enumerate([{}, {"init": 0}, {"init": 0, "linear": 1}, {"softmax": 1}]):
        gb.record(
            make_report(scores, sha256=sha(str(i)), seconds=10.0 + i, metrics=curve),
            student_id=f"s{i}",
            submitted_at=T0,
            source=f"s{i}.py",
        )
    gb.record_failure(
        assignment="hw1",
        student_id="?<script>alert(1)</script>.py",
        sha256=sha("x"),
        reason="<b>bad</b> id",
        source="<img src=x>.py",
        submitted_at=None,
        spec_hash="spec-1",
        grader_version="0.1.0",
    )
    gb.add_adjustment(
        assignment="hw1",
        student_id="s1",
        task_id="init",
        points=Fraction(1),
        reason="partial credit by hand",
        author="ta1",
    )
    yield gb
    gb.close()


def test_the_page_has_every_section_and_its_plots(book, tmp_path: Path) -> None:
    index = write_report(book, tmp_path / "report")
    html = index.read_text()
    for heading in (
        "Score distribution",
        "Task pass rates",
        "Benchmarks",
        "Failed to grade (1)",
        "Slowest submissions",
        "Overrides by staff",
    ):
        assert heading in html
    assert "Hardest task: <b>init</b>" in html  # 2 of 4 fail init; fewest full passes
    assert "partial credit by hand" in html
    images = re.findall(r'<img class="plot" src="([^"]+)"', html)
    assert images == [
        "hw1-histogram.png",
        "hw1-task-pass-rates.png",
        "hw1-curves-1-1.png",
        "hw1-metric-1-1.png",
    ]
    for name in images:
        assert (tmp_path / "report" / name).read_bytes().startswith(PNG)
    slow = html.index("Slowest submissions")
    assert html.index("s3", slow) < html.index("s0", slow)  # slowest first


def test_student_text_is_escaped_and_nothing_is_fetched(book, tmp_path: Path) -> None:
    html = write_report(book, tmp_path / "report").read_text()
    assert "<script>" not in html and "<b>bad</b>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "<script" not in html


def test_rates_and_benchmarks_are_computed_from_counted_attempts(book) -> None:
    section = collect(book, "hw1")
    rates = {r.id: r for r in section.rates}
    assert section.rates[0].id == "init"
    assert rates["init"].passed == 0.5 and rates["init"].failed == 0.5
    assert rates["softmax"].partial == 0.25 and rates["softmax"].passed == 0.75
    [bench] = section.benchmarks
    # these reports carry the metrics in the form written before trained-model checks had
    # registries (loss_curve, accuracy): still read
    assert len(bench.curves["loss"]) == 4 and bench.reference_curves["loss"] == [2.0, 0.8, 0.3]
    assert bench.values["accuracy"] == [0.7] * 4 and bench.reference_values["accuracy"] == 0.85
    assert [a.student_id for a in section.failures] == ["?<script>alert(1)</script>.py"]


def test_an_empty_gradebook_and_an_unknown_assignment(tmp_path: Path) -> None:
    gb = open_gradebook(tmp_path / "empty.sqlite")
    html = write_report(gb, tmp_path / "r").read_text()
    assert "holds no attempts yet" in html
    with pytest.raises(AutograderError, match="'hw7' has no attempts"):
        write_report(gb, tmp_path / "r", assignments=["hw7"])
    gb.close()


def test_all_failed_assignment_still_renders(tmp_path: Path) -> None:
    gb = open_gradebook(tmp_path / "gb.sqlite")
    gb.record_failure(
        assignment="hw2",
        student_id="a",
        sha256=sha("a"),
        reason="zip bomb",
        source="a.zip",
        submitted_at=None,
        spec_hash="s",
        grader_version="0.1.0",
    )
    html = write_report(gb, tmp_path / "r").read_text()
    assert "No graded students yet" in html and "zip bomb" in html
    gb.close()


def test_report_command(book, tmp_path: Path) -> None:
    import argparse
    import io

    from rich.console import Console

    from autograder.commands import report

    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    out = io.StringIO()
    args = parser.parse_args(
        [
            "report",
            "--db",
            str(tmp_path / "gb.sqlite"),
            "--out",
            str(tmp_path / "r"),
            "--assignment",
            "hw1",
            "--policy",
            "best",
        ]
    )
    assert args.func(args, Console(file=out, width=200)) == 0
    assert f"wrote {tmp_path / 'r' / 'index.html'} (4 PNG plots beside it)" in out.getvalue()
    assert "the best attempt of each student counts" in (tmp_path / "r" / "index.html").read_text()
    args = parser.parse_args(["report", "--db", str(tmp_path / "none.sqlite"), "--out", "x"])
    with pytest.raises(AutograderError, match="does not exist"):
        args.func(args, Console(file=out))


def test_skipped_tasks_are_not_failures(tmp_path: Path) -> None:
    gb = open_gradebook(tmp_path / "gb.sqlite")
    for i in range(3):
        report = make_report({"init": 0}, sha256=sha(f"k{i}"))
        report.tasks[2].status = "skipped"  # e.g. a benchmark under --skip-benchmarks
        gb.record(report, student_id=f"k{i}", submitted_at=T0, source="k")
    section = collect(gb, "hw1")
    assert [r.id for r in section.rates] == ["softmax", "linear", "init"]
    assert section.rates[-1].ran == 0 and section.rates[-1].skipped == 3
    html = write_report(gb, tmp_path / "r").read_text()
    assert "skipped by all 3" in html and "Hardest task: <b>softmax</b>" in html
    gb.close()


def test_any_metric_and_curve_a_trained_check_carries_is_plotted(tmp_path: Path) -> None:
    """A lower-is-better metric (RMSE) and two curves: each gets its plot, nothing assumes
    accuracy and loss."""
    gb = open_gradebook(tmp_path / "gb.sqlite")
    for i, rmse in enumerate([0.95, 1.02, 1.4]):
        metrics = {
            "credit": [{"metric": "rmse", "value": rmse, "reference": 0.93, "unit": False}],
            "curves": {"loss": [3.0, 2.0 - i / 10], "rmse": [1.5, rmse]},
            "reference_curves": {"loss": [3.0, 1.9]},
        }
        gb.record(
            make_report({}, sha256=sha(str(i)), seconds=1.0, metrics=metrics),
            student_id=f"s{i}",
            submitted_at=T0,
            source=f"s{i}.py",
        )
    [bench] = collect(gb, "hw1").benchmarks
    assert bench.values == {"rmse": [0.95, 1.02, 1.4]} and bench.reference_values == {"rmse": 0.93}
    assert sorted(bench.curves) == ["loss", "rmse"] and bench.unit == set()
    html = write_report(gb, tmp_path / "report").read_text()
    images = re.findall(r'<img class="plot" src="([^"]+)"', html)
    assert [i for i in images if "curves" in i or "metric" in i] == [
        "hw1-curves-1-1.png",
        "hw1-curves-1-2.png",
        "hw1-metric-1-1.png",
    ]
    assert "median rmse 1.02 (reference 0.93)" in html
