"""A forbidden call costs its own function (issue 21, item 1), through ``autograder check``.

A correct Homework 1 submission with one forbidden call in one function loses only the checks of
that function's symbol, with a message naming the call and its line; the task's other checks,
and every other task, keep their points. Both runs are started together (each pays for
``import torch``). Also here: the submission's text rule (``wire.source``), shared by the scan
and the worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from autograder.wire import source

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_solutions" / "hw1.py"

RELU = "def relu(x):\n    return torch.where(x > 0, x, torch.zeros_like(x))\n"
CLIP = "    total = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))\n"
EDITS = {
    # relu through the forbidden Tensor method: relu's 2 of the 10 activation checks
    "relu_clamp": (RELU, "def relu(x):\n    return x.clamp(min=0)\n"),
    # clip_grad_norm_ through torch.norm: that check only, SGD and Adam keep theirs
    "clip_norm": (
        CLIP,
        "    total = torch.norm(torch.stack([torch.norm(p.grad.detach()) for p in params]))\n",
    ),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("cost")
    reference = REFERENCE.read_text(encoding="utf-8")
    procs = {}
    for name, (old, new) in EDITS.items():
        assert reference.count(old) == 1, f"the reference no longer has {old!r}"
        path = folder / name / "hw1.py"
        path.parent.mkdir()
        path.write_text(reference.replace(old, new), encoding="utf-8")
        procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autograder",
                "check",
                "hw1",
                str(path),
                "--json",
                "--skip-benchmarks",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        out[name] = json.loads(stdout)
    return out


def _line(name: str, text: str) -> int:
    old, new = EDITS[name]
    lines = REFERENCE.read_text(encoding="utf-8").replace(old, new).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _only_these_pay(report: dict, task_id: str, symbol: str, fragment: str) -> None:
    for task in report["tasks"]:
        if task["status"] == "skipped":
            continue
        charged = [c for c in task["checks"] if c["status"] == "forbidden API"]
        if task["id"] != task_id:
            assert task["status"] == "passed", (task["id"], task["message"])
            continue
        assert charged and all(c["symbol"] == symbol for c in charged), charged
        for check in task["checks"]:
            if check["symbol"] == symbol:
                assert check["status"] == "forbidden API" and check["score_exact"] == "0"
                assert fragment in check["message"], check["message"]
            else:
                assert check["status"] == "passed", (check["id"], check["message"])
        kept = sum(Fraction(c["score_exact"]) for c in task["checks"])
        lost = sum(Fraction(c["max_score_exact"]) for c in charged)
        assert Fraction(task["score_exact"]) == kept == Fraction(task["max_score_exact"]) - lost
        assert task["status"] == "partial" and fragment in task["message"]


def test_a_clamp_in_relu_costs_only_relus_checks(reports: dict[str, dict]) -> None:
    report = reports["relu_clamp"]
    line = _line("relu_clamp", "x.clamp(min=0)")
    fragment = f"uses torch.Tensor.clamp (line {line}), which this task forbids"
    _only_these_pay(report, "activations", "relu", fragment)
    activations = next(t for t in report["tasks"] if t["id"] == "activations")
    assert [c["id"] for c in activations["checks"] if c["status"] != "passed"] == [
        "relu-forward",
        "relu-backward",
    ]
    assert Fraction(activations["score_exact"]) == Fraction(8, 5)  # 2 points less 2 of 10


def test_torch_norm_in_clip_grad_norm_costs_only_that_check(reports: dict[str, dict]) -> None:
    report = reports["clip_norm"]
    line = _line("clip_norm", "torch.norm(torch.stack")
    fragment = f"uses torch.norm (line {line}), which this task forbids"
    _only_these_pay(report, "optim", "clip_grad_norm_", fragment)


# -- the text that is scanned is the text that runs -------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"x = 1\n", "x = 1\n"),
        (b"# -*- coding: utf-8 -*-\nx = 1\n", "# -*- coding: utf-8 -*-\nx = 1\n"),
        (b"#!/usr/bin/env python\n# coding=UTF8\nx = 1\n", None),
        (b"\xef\xbb\xbfx = 1\n", "x = 1\n"),  # the byte-order mark, as Python drops it
        (
            b"x = 1\n# coding: utf-7\n",
            None,
        ),  # a cookie only counts on lines 1-2 (2: line 1 a comment)
    ],
)
def test_utf8_is_accepted(data: bytes, text: str | None) -> None:
    assert source.decode(data) == (text if text is not None else data.decode())


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"# coding: utf-7\nx = 1\n", "declares the encoding 'utf-7' (line 1 or 2)"),
        (b"#!/bin/python\n# -*- coding: latin-1 -*-\nx = 1\n", "'latin-1'"),
        (b"# vim: set fileencoding=cp1252 :\n", "'cp1252'"),
        (b"# coding: no-such-codec\n", "'no-such-codec'"),
        (b"x = '\xe9'\n", "not UTF-8 text (byte 5)"),
    ],
)
def test_anything_else_is_refused_with_a_readable_reason(data: bytes, fragment: str) -> None:
    with pytest.raises(source.SourceError) as err:
        source.decode(data)
    assert fragment in str(err.value) and "\n" not in str(err.value)
