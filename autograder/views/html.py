"""The TA report: one static ``index.html`` (no server, nothing fetched) plus its plots as PNG.

Per assignment: score histogram, per-task pass rates (hardest task first), benchmark loss
curves and accuracies when reports carry them, the slowest submissions, overrides, and every
submission that failed to grade. All text from the gradebook is HTML-escaped: student ids,
file names and messages are student-controlled.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from autograder.errors import AutograderError
from autograder.export.files import atomic_write_bytes, atomic_write_text
from autograder.gradebook import Gradebook, Policy
from autograder.version import __version__
from autograder.views.html_data import Section, collect
from autograder.views.html_page import render_page
from autograder.views.html_plots import histogram_png, loss_curves_png, metric_png, pass_rates_png


def _plots(section: Section, out_dir: Path) -> None:
    sheet, name = section.sheet, section.sheet.assignment
    images = {
        "histogram": (
            f"{name}-histogram.png",
            lambda: histogram_png(
                section.scores, float(sheet.max_score), f"{name}: scores of counted attempts"
            ),
        )
    }
    if any(r.ran for r in section.rates):
        rows = [(r.id, r.passed, r.partial, r.failed) for r in section.rates if r.ran]
        images["rates"] = (
            f"{name}-task-pass-rates.png",
            lambda: pass_rates_png(rows, f"{name}: task outcomes, hardest first"),
        )
    for i, bench in enumerate(section.benchmarks):
        for j, curve in enumerate(sorted(set(bench.curves) | set(bench.reference_curves))):
            images[f"curve{i}-{j}"] = (
                f"{name}-curves-{i + 1}-{j + 1}.png",
                lambda b=bench, c=curve: loss_curves_png(
                    b.curves.get(c, []),
                    b.reference_curves.get(c),
                    f"{name}: training {c}, {b.check}",
                    ylabel=c,
                ),
            )
        for j, metric in enumerate(sorted(bench.values)):
            images[f"metric{i}-{j}"] = (
                f"{name}-metric-{i + 1}-{j + 1}.png",
                lambda b=bench, m=metric: metric_png(
                    b.values[m],
                    b.reference_values.get(m),
                    m,
                    f"{name}: {m}, {b.check}",
                    unit=m in b.unit,
                ),
            )
    for key, (filename, draw) in images.items():
        atomic_write_bytes(out_dir / filename, draw())
        section.images[key] = filename


def write_report(
    gradebook: Gradebook,
    out_dir: Path,
    *,
    assignments: list[str] | None = None,
    policy: Policy = "latest",
) -> Path:
    """Write ``out_dir/index.html`` and its PNGs; returns the HTML path.

    PNGs are written first and the page last, each atomically, so the page never points at a
    missing plot.

    Raises:
        AutograderError: ``out_dir`` cannot be created, or an assignment has no attempts.
    """
    names = assignments or gradebook.assignments()
    known = set(gradebook.assignments())
    for name in names:
        if name not in known:
            raise AutograderError(
                f"assignment {name!r} has no attempts in the gradebook "
                f"(it has: {', '.join(sorted(known)) or 'none'})"
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AutograderError(f"--out {out_dir}: cannot create: {exc.strerror}") from None
    sections = [collect(gradebook, name, policy) for name in names]
    for section in sections:
        _plots(section, out_dir)
    path = out_dir / "index.html"
    atomic_write_text(path, render_page(sections, policy, datetime.now().astimezone(), __version__))
    return path
