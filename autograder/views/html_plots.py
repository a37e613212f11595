"""The PNG plots of the TA report, drawn with matplotlib's object API (no pyplot state).

Each function returns PNG bytes; ``htmlreport`` writes them next to ``index.html``.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Sequence

_BLUE, _GREEN, _AMBER, _RED, _GREY = "#3b6ea8", "#3a9d5d", "#e0a030", "#c8463d", "#555555"


def _figure(width: float = 7.0, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def histogram_png(scores: Sequence[float], max_score: float, title: str) -> bytes:
    """Score histogram with mean and median marked."""
    fig = _figure()
    ax = fig.add_subplot()
    top = max(max_score, max(scores, default=0.0), 1e-9)
    bins = max(5, min(20, int(round(top * 2)) if top <= 10 else 20))
    ax.hist(scores, bins=bins, range=(0, top), color=_BLUE, edgecolor="white")
    if scores:
        mean, median = statistics.fmean(scores), statistics.median(scores)
        ax.axvline(mean, color=_RED, linestyle="--", label=f"mean {mean:.2f}")
        ax.axvline(median, color=_GREY, linestyle=":", label=f"median {median:.2f}")
        ax.legend(frameon=False)
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(title, loc="left")
    ax.yaxis.get_major_locator().set_params(integer=True)
    _style(ax)
    return _png(fig)


def pass_rates_png(rows: Sequence[tuple[str, float, float, float]], title: str) -> bytes:
    """Stacked horizontal bars per task: share passed, partial, failed (hardest on top)."""
    fig = _figure(height=max(2.2, 0.45 * len(rows) + 1.2))
    ax = fig.add_subplot()
    names = [r[0] for r in rows]
    left = [0.0] * len(rows)
    for index, (label, color) in enumerate(
        [("passed", _GREEN), ("partial", _AMBER), ("failed / error", _RED)]
    ):
        values = [100 * r[index + 1] for r in rows]
        ax.barh(names, values, left=left, color=color, label=label, height=0.6)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()  # first row (hardest task) at the top
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students")
    ax.set_title(title, loc="left")
    fig.legend(frameon=False, ncols=3, loc="outside lower center")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def loss_curves_png(
    curves: Sequence[Sequence[float]],
    reference: Sequence[float] | None,
    title: str,
    ylabel: str = "loss",
) -> bytes:
    """Every student's training curve, faint, under the reference solution's."""
    fig = _figure()
    ax = fig.add_subplot()
    for curve in curves:
        ax.plot(range(len(curve)), curve, color=_BLUE, alpha=0.25, linewidth=1)
    if curves:
        ax.plot([], [], color=_BLUE, alpha=0.5, label=f"students ({len(curves)})")
    if reference:
        ax.plot(range(len(reference)), reference, color=_RED, linewidth=2.2, label="reference")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.legend(frameon=False)
    _style(ax)
    return _png(fig)


def metric_png(
    values: Sequence[float], reference: float | None, label: str, title: str, *, unit: bool
) -> bytes:
    """Histogram of a benchmark metric over students, the reference's value marked.

    ``unit``: the metric is a fraction in [0, 1] (accuracy, IoU), so the axis stays inside it.
    """
    fig = _figure()
    ax = fig.add_subplot()
    marks = [*values, *([reference] if reference is not None else [])]
    low, high = min(marks, default=0.0), max(marks, default=1.0)
    pad = max(0.05 * (high - low), 0.05 if unit else 1e-6)
    low, high = low - pad, high + pad
    if unit:
        low, high = max(0.0, low), min(1.0, high)
    ax.hist(values, bins=20, range=(low, high), color=_BLUE, edgecolor="white")
    if reference is not None:
        ax.axvline(reference, color=_RED, linewidth=2, label=f"reference {reference:.4g}")
        ax.legend(frameon=False)
    ax.set_xlabel(label)
    ax.set_ylabel("students")
    ax.set_title(title, loc="left")
    ax.yaxis.get_major_locator().set_params(integer=True)
    _style(ax)
    return _png(fig)
