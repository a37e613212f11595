"""HTML of the TA report: self-contained markup and CSS, every gradebook string escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape
from statistics import fmean, median
from typing import TYPE_CHECKING

from autograder.points import decimal_text, parse_fraction

if TYPE_CHECKING:
    from autograder.views.html_data import Section

_CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --blue:#3b6ea8; --green:#3a9d5d;
        --amber:#e0a030; --red:#c8463d; --bg:#f7f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:20px 32px 12px; }
h1 { margin:0 0 4px; font-size:24px; }
h2 { margin:0 0 16px; font-size:21px; }
h3 { margin:28px 0 10px; font-size:16px; }
.meta, .note { color:var(--muted); font-size:13px; margin:0; }
nav { margin-top:10px; } nav a { margin-right:14px; color:var(--blue); font-weight:600; }
main { max-width:1100px; margin:0 auto; padding:8px 32px 40px; }
section.assignment { background:#fff; border:1px solid var(--line); border-radius:8px;
                     padding:22px 26px; margin:22px 0; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:120px; }
.card b { display:block; font-size:20px; } .card span { color:var(--muted); font-size:12px; }
.card.bad b { color:var(--red); }
img.plot { display:block; margin:12px 0; max-width:100%; height:auto; border:1px solid var(--line);
           border-radius:6px; }
table { border-collapse:collapse; width:100%; font-size:13.5px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
         vertical-align:top; }
th { color:var(--muted); font-weight:600; background:#fafbfc; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.reason { word-break:break-word; }
code { font-size:12.5px; word-break:break-all; }
code.id { word-break:normal; white-space:nowrap; }
.bar { display:flex; height:12px; width:180px; border-radius:3px; overflow:hidden;
       background:var(--line); }
.bar i { display:block; height:100%; }
.p { background:var(--green); } .h { background:var(--amber); } .f { background:var(--red); }
.tag { display:inline-block; padding:0 6px; border-radius:3px; font-size:12px;
       background:var(--line); }
.tag.failed { background:#f8dcd9; color:#8a2a22; }
.callout { background:#fff6e5; border-left:4px solid var(--amber); padding:8px 12px;
           margin:8px 0 12px; }
.empty { color:var(--muted); font-style:italic; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """``rows`` hold ready HTML; ``numeric`` column indexes are right-aligned."""
    ths = "".join(
        f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{cell}</td>" for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table>"


def _img(section: Section, key: str, alt: str) -> str:
    src = section.images.get(key)
    return f'<img class="plot" src="{_e(src)}" alt="{_e(alt)}">' if src else ""


def _cards(section: Section) -> str:
    sheet = section.sheet
    graded = [s for s in sheet.students if s.status == "graded"]
    failed = len(sheet.students) - len(graded) + len(sheet.unidentified)
    scores = section.scores
    cards = [
        ("students", str(len(sheet.students)), False),
        ("graded", str(len(graded)), False),
        ("failed to grade", str(failed), failed > 0),
        ("mean", f"{fmean(scores):.2f}" if scores else "-", False),
        ("median", f"{median(scores):.2f}" if scores else "-", False),
        ("out of", decimal_text(sheet.max_score), False),
        ("attempts stored", str(section.attempts), False),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card{" bad" if bad else ""}"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
            for k, v, bad in cards
        )
        + "</div>"
    )


def _rates(section: Section) -> str:
    ran = [r for r in section.rates if r.ran]
    if not ran:
        return '<p class="empty">No graded task results yet.</p>'
    hardest = ran[0]
    callout = (
        f'<p class="callout">Hardest task: <b>{_e(hardest.id)}</b> ({_e(hardest.title)}):'
        f" {_pct(hardest.passed)} of students passed it fully, {_pct(hardest.failed)} failed"
        " it.</p>"
    )
    rows = []
    for r in section.rates:
        if not r.ran:
            rows.append(
                [
                    f'<code class="id">{_e(r.id)}</code>',
                    _e(r.title),
                    "-",
                    "-",
                    "-",
                    "-",
                    f'<span class="tag">skipped by all {r.skipped}</span>',
                ]
            )
            continue
        bar = (
            f'<div class="bar"><i class="p" style="width:{100 * r.passed:.1f}%"></i>'
            f'<i class="h" style="width:{100 * r.partial:.1f}%"></i>'
            f'<i class="f" style="width:{100 * r.failed:.1f}%"></i></div>'
        )
        note = f' <span class="note">({r.skipped} skipped)</span>' if r.skipped else ""
        rows.append(
            [
                f'<code class="id">{_e(r.id)}</code>',
                _e(r.title) + note,
                _pct(r.passed),
                _pct(r.partial),
                _pct(r.failed),
                f"{100 * r.mean_fraction:.0f}%",
                bar,
            ]
        )
    table = _table(
        ["task", "title", "passed", "partial", "failed / error", "mean score", ""],
        rows,
        {2, 3, 4, 5},
    )
    return callout + table + _img(section, "rates", "task pass rates")


def _benchmarks(section: Section) -> str:
    if not section.benchmarks:
        return ""
    parts = ["<h3>Benchmarks</h3>"]
    for i, bench in enumerate(section.benchmarks):
        line = [f"<b>{_e(bench.check)}</b>"]
        for name, values in sorted(bench.values.items()):
            text = f"median {_e(name)} {median(values):.4g}"
            if name in bench.reference_values:
                text += f" (reference {bench.reference_values[name]:.4g})"
            line.append(text)
        for name, curves in sorted(bench.curves.items()):
            line.append(f"{len(curves)} {_e(name)} curves")
        parts.append(f'<p class="note">{", ".join(line)}</p>')
        for j, curve in enumerate(sorted(set(bench.curves) | set(bench.reference_curves))):
            parts.append(_img(section, f"curve{i}-{j}", f"{curve} curves of {bench.check}"))
        for j, metric in enumerate(sorted(bench.values)):
            parts.append(_img(section, f"metric{i}-{j}", f"{metric} of {bench.check}"))
    return "".join(parts)


def _failures(section: Section) -> str:
    failures = section.failures
    title = f"<h3>Failed to grade ({len(failures)})</h3>"
    if not failures:
        return title + '<p class="empty">None: every submission was graded.</p>'
    rows = []
    for a in sorted(failures, key=lambda a: (a.id not in section.counted_ids, a.student_id)):
        counts = (
            '<span class="tag failed">counts</span>'
            if a.id in section.counted_ids
            else ('<span class="tag">superseded</span>')
        )
        rows.append(
            [
                _e(a.student_id),
                f"<code>{_e(a.source)}</code>",
                f'<span class="reason">{_e(a.reason)}</span>',
                _when(a.graded_at),
                counts,
            ]
        )
    note = (
        '<p class="note">"counts": the student has no graded attempt, so this failure is '
        "what the gradebook holds for them. Fix the cause and rerun the batch.</p>"
    )
    return title + note + _table(["student", "source", "reason", "recorded", ""], rows)


def _slowest(section: Section) -> str:
    if not section.slowest:
        return ""
    rows = [
        [
            _e(a.student_id),
            f"{a.seconds:.1f} s",
            f"{decimal_text(a.score)} / {decimal_text(a.max_score)}",
            _e(a.report.submission_status if a.report else a.status),
            f"<code>{_e(a.source)}</code>",
        ]
        for a in section.slowest
    ]
    return "<h3>Slowest submissions</h3>" + _table(
        ["student", "time", "score", "status", "source"], rows, {1, 2}
    )


def _adjustments(section: Section) -> str:
    rows = []
    for student in section.sheet.students:
        for t in student.tasks:
            if t.adjustment is None:
                continue
            was = (
                "-" if t.original_exact is None else decimal_text(parse_fraction(t.original_exact))
            )
            rows.append(
                [
                    _e(student.student_id),
                    f"<code>{_e(t.task_id)}</code>",
                    was,
                    decimal_text(t.adjustment.points_exact),
                    _e(t.adjustment.reason),
                    _e(t.adjustment.author),
                ]
            )
    if not rows:
        return ""
    return "<h3>Overrides by staff</h3>" + _table(
        ["student", "task", "was", "now", "reason", "by"], rows, {2, 3}
    )


def _section(section: Section) -> str:
    sheet = section.sheet
    title = next((s.attempt.report.title for s in sheet.students if s.attempt.report), "")
    heading = _e(sheet.assignment) + (f" &mdash; {_e(title)}" if title else "")
    return (
        f'<section class="assignment" id="{_e(sheet.assignment)}"><h2>{heading}</h2>'
        + _cards(section)
        + "<h3>Score distribution</h3>"
        + (
            _img(section, "histogram", "score histogram")
            if section.scores
            else '<p class="empty">No graded students yet.</p>'
        )
        + "<h3>Task pass rates</h3>"
        + _rates(section)
        + _benchmarks(section)
        + _failures(section)
        + _slowest(section)
        + _adjustments(section)
        + "</section>"
    )


def render_page(sections: list[Section], policy: str, now: datetime, version: str) -> str:
    """The whole ``index.html``."""
    nav = "".join(
        f'<a href="#{_e(s.sheet.assignment)}">{_e(s.sheet.assignment)}</a>' for s in sections
    )
    body = "".join(_section(s) for s in sections) or (
        '<p class="empty">The gradebook holds no attempts yet.</p>'
    )
    counted = "the latest attempt" if policy == "latest" else "the best attempt"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Grading report</title><style>{_CSS}</style></head><body>"
        "<header><h1>Grading report</h1>"
        f'<p class="meta">Generated {_e(now.strftime("%Y-%m-%d %H:%M %Z"))} by autograder '
        f"{_e(version)} &middot; {counted} of each student counts</p>"
        f"<nav>{nav}</nav></header><main>{body}</main></body></html>\n"
    )
