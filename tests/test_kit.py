"""Student kits: layout, manifest, tamper detection, grading from the kit alone, no leaks."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from safetensors import safe_open

from autograder.cli import main
from autograder.errors import KitError, OutputError, SpecError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment, load_spec_file, spec_hash
from autograder.spec.models import Assignment, SymbolDoc
from autograder.spec.public import public_spec
from autograder.student.kit import (
    FILES,
    KIT_DIR,
    _complete,
    build_kit,
    kit_grader,
    kit_note,
    load_kit,
)
from autograder.student.template import render_template, student_symbols, symbol_source
from autograder.trusted.engine import Grader
from autograder.trusted.plan import build_plan
from autograder.trusted.probe import derive_seed
from autograder.trusted.raw import Execution, ProbeRaw
from autograder.version import __version__

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference_solutions" / "hw1.py"
EXAMPLE = REPO / "examples" / "hw1_student.py"
HIDDEN_ID = "secret-losses-q7x"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One reference cache for the session's kit builds (shared by test_submit and test_wheel)."""
    path = tmp_path_factory.getbasetemp() / "reference-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOGRADER_CACHE", str(path))
        mp.delenv("AUTOGRADER_COURSE", raising=False)
        yield path


@pytest.fixture(scope="module")
def hw1():
    return load_assignment("hw1", Course(REPO))


@pytest.fixture(scope="module")
def kit_dir(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "hw1-kit"
    assert main(["kit", "hw1", "--out", str(out), "--course", str(REPO)]) == 0  # the command itself
    return out


def _hidden_course(root: Path) -> Path:
    """A course copy where the ``losses`` task is hidden (and renamed, so its id is greppable)."""
    (root / "assignments").mkdir(parents=True)
    shutil.copytree(REPO / "reference_solutions", root / "reference_solutions")
    text = (REPO / "assignments" / "hw1.toml").read_text()
    block = 'id = "losses"\ntitle = "Softmax, log-softmax, cross-entropy and MSE"\npoints = 2\nvisibility = "public"'
    assert block in text
    hidden = block.replace('"losses"', f'"{HIDDEN_ID}"').replace('"public"', '"hidden"')
    (root / "assignments" / "hw1.toml").write_text(text.replace(block, hidden))
    return root


# -- public spec and template (no workers) ------------------------------------------------------


def test_public_spec_drops_hidden_tasks_and_their_cases(tmp_path):
    loaded = load_spec_file(_hidden_course(tmp_path) / "assignments" / "hw1.toml")
    public = public_spec(loaded.spec)
    assert public.id == "hw1"
    assert [t.id for t in public.tasks] == [t.id for t in loaded.spec.tasks if t.id != HIDDEN_ID]
    assert public.points == Fraction(13) and loaded.spec.points == Fraction(15)
    assert not {"softmax", "softmax_grad", "ce", "mse"} & set(public.cases)
    assert {"act", "linfn", "params", "dropout"} <= set(public.cases)


def test_inf_and_nan_probe_values_survive_the_public_spec_and_spec_json():
    """Homework 3's attention masks hold -inf: the kit's spec must keep it (JSON null broke it)."""
    import math

    spec = load_assignment("hw3", Course(REPO)).spec
    values = [
        v
        for cases in public_spec(spec).cases.values()
        for case in cases
        for arg in case.args
        if getattr(arg, "values", None)
        for v in _flat(arg.values)
    ]
    assert any(v == -math.inf for v in values)
    text = json.dumps(public_spec(spec).model_dump(mode="json"))
    # spec_hash, not ==: nan != nan
    assert spec_hash(Assignment.model_validate(json.loads(text))) == spec_hash(public_spec(spec))
    assert Assignment.model_validate_json(text).id == "hw3"


def _flat(values):
    for v in values:
        yield from _flat(v) if isinstance(v, list) else [v]


def test_a_kit_needs_public_tasks_and_a_reference_that_passes_them(hw1):
    data = hw1.spec.model_dump(mode="json")
    for task in data["tasks"]:
        task["visibility"] = "hidden"
    with pytest.raises(KitError, match="every task is hidden"):
        public_spec(Assignment.model_validate(data))
    plan = build_plan(hw1.spec, include={"activations"})
    probes = {p.id: ProbeRaw("ok") for p in plan.probes()}
    first = plan.probes()[0].id
    probes[first] = ProbeRaw("error", "TypeError: bad")
    with pytest.raises(
        KitError,
        match=f"fails its own public checks, so no kit was written: {first}: error: TypeError: bad",
    ):
        _complete(plan, Execution(probes=probes), hw1)


def test_template_declares_every_symbol_and_raises(hw1):
    source = render_template(hw1.spec)
    tree = ast.parse(source)
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(defined) == {s.name for s in student_symbols(hw1.spec)}
    assert ast.unparse(defined["softmax"].args) == "z, dim=-1"
    assert ast.get_docstring(defined["softmax"]).startswith("exp(z) / sum(exp(z)) along dim")
    bases = {
        name: ast.unparse(n.bases[0]) for name, n in defined.items() if isinstance(n, ast.ClassDef)
    }
    assert bases == {
        "LinearFunction": "torch.autograd.Function",
        "Linear": "torch.nn.Module",
        "Dropout": "torch.nn.Module",
        "BatchNorm1d": "torch.nn.Module",
        "SGD": "torch.optim.Optimizer",
        "Adam": "torch.optim.Optimizer",
    }
    methods = {n.name: n for n in defined["LinearFunction"].body if isinstance(n, ast.FunctionDef)}
    assert set(methods) == {"forward", "backward"}
    assert all(ast.unparse(m.decorator_list[0]) == "staticmethod" for m in methods.values())
    assert {n.name for n in defined["Adam"].body if isinstance(n, ast.FunctionDef)} == {
        "__init__",
        "step",
    }
    init = next(n for n in defined["BatchNorm1d"].body if isinstance(n, ast.FunctionDef))
    assert ast.unparse(init.args) == "self, num_features, eps=1e-05, momentum=0.1"
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert functions and all(
        ast.unparse(f.body[-1]) == "raise NotImplementedError" for f in functions
    )


def test_template_rejects_a_signature_that_is_not_python():
    with pytest.raises(SpecError, match="symbol 'f': signature '\\(x,,\\)' is not valid Python"):
        symbol_source(SymbolDoc(name="f", signature="(x,,)"))
    text = symbol_source(SymbolDoc(name="g", signature="(x)", doc='tricky """ quotes \\ and more'))
    assert ast.get_docstring(ast.parse(text).body[0]) == 'tricky """ quotes \\ and more'


# -- the kit ---------------------------------------------------------------------------------------


def test_kit_layout_and_manifest(kit_dir, hw1):
    assert sorted(p.name for p in kit_dir.iterdir()) == ["README.md", "hw1.py", KIT_DIR]
    assert sorted(p.name for p in (kit_dir / KIT_DIR).iterdir()) == sorted(
        [*FILES, "manifest.json"]
    )
    manifest = json.loads((kit_dir / KIT_DIR / "manifest.json").read_text())
    import hashlib

    for name in FILES:
        assert (
            manifest["files"][name]
            == hashlib.sha256((kit_dir / KIT_DIR / name).read_bytes()).hexdigest()
        )
    assert manifest["grader_version"] == __version__
    assert manifest["spec_hash"] == hw1.spec_hash
    assert (manifest["points"], manifest["public_points"]) == ("15", "15")
    assert manifest["server_only"] == {"benchmark-catdog": "3/2"}
    assert (manifest["hidden_tasks"], manifest["hidden_points"]) == (0, "0")
    readme = (kit_dir / "README.md").read_text()
    assert "autograder check hw1 hw1.py --kit ." in readme
    assert "| `linear` | Linear layer with a hand-written backward pass | 2.5 | yes |" in readme
    assert "| `benchmark-catdog` |" in readme and "no: runs on the course server" in readme
    assert (kit_dir / "hw1.py").read_text() == render_template(hw1.spec)
    kit = load_kit(kit_dir, "hw1")
    assert len(kit.plan.probes()) == sum(len(p) for p in build_plan(hw1.spec).tasks.values()) - 1
    assert "benchmark-catdog" not in kit.plan.tasks and kit.skip.keys() == {"benchmark-catdog"}


def test_kit_grades_like_the_staff_side(kit_dir, hw1):
    kit = load_kit(kit_dir, "hw1")
    with kit_grader(kit) as grader:
        template = grader.grade(kit_dir / "hw1.py")
        reference = grader.grade(REFERENCE)
        example = grader.grade(EXAMPLE)
    with Grader(hw1, skip_benchmarks=True) as staff:
        staff_example = staff.grade(EXAMPLE)

    assert template.score == 0 and template.submission_status == "graded"
    for task in template.tasks:
        expected = "skipped" if task.id == "benchmark-catdog" else "not implemented"
        assert task.status == expected, (task.id, task.status, task.message)
    assert "sigmoid raises NotImplementedError" in template.task("activations").message

    assert reference.score_exact == "27/2" and reference.max_score_exact == "15"
    assert all(t.status == "passed" for t in reference.tasks if t.id != "benchmark-catdog")
    assert reference.task("benchmark-catdog").message.startswith(
        "skipped: runs on the course server"
    )

    staff_tasks = {t.id: t for t in staff_example.tasks}
    for task in example.tasks:
        if task.id == "benchmark-catdog":
            continue
        mine = staff_tasks[task.id]
        assert (task.score_exact, task.status, task.message) == (
            mine.score_exact,
            mine.status,
            mine.message,
        )
        assert [c.status for c in task.checks] == [c.status for c in mine.checks]
    assert 0 < example.score < reference.score


def test_tampering_and_missing_files_are_refused(kit_dir, tmp_path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(kit_dir, target)
        return target

    bad = copy("flipped")
    data = bytearray((bad / KIT_DIR / "expected.safetensors").read_bytes())
    data[-1] ^= 1
    (bad / KIT_DIR / "expected.safetensors").write_bytes(bytes(data))
    with pytest.raises(
        KitError, match="expected.safetensors: does not match its sha256 in manifest.json"
    ):
        load_kit(bad)
    gone = copy("missing")
    (gone / KIT_DIR / "plan.safetensors").unlink()
    with pytest.raises(KitError, match="plan.safetensors: missing"):
        load_kit(gone)
    nomanifest = copy("nomanifest")
    (nomanifest / KIT_DIR / "manifest.json").unlink()
    with pytest.raises(KitError, match="manifest.json is missing"):
        load_kit(nomanifest)
    edited = copy("version")
    manifest = json.loads((edited / KIT_DIR / "manifest.json").read_text())
    manifest["grader_version"] = "0.0.1"
    (edited / KIT_DIR / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KitError, match="built for autograder 0.0.1"):
        load_kit(edited)
    with pytest.raises(KitError, match="this kit is for 'hw1', not 'hw2'"):
        load_kit(kit_dir, "hw2")
    with pytest.raises(KitError, match="not a student kit"):
        load_kit(tmp_path)
    with pytest.raises(OutputError, match="already exists and is not an empty folder"):
        build_kit(load_assignment("hw1", Course(REPO)), kit_dir)


def test_hidden_task_and_reference_leave_no_trace(cache, tmp_path):
    course = Course(_hidden_course(tmp_path / "course"))
    loaded = load_assignment("hw1", course)
    kit = build_kit(loaded, tmp_path / "out")
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    blobs = {p: p.read_bytes() for p in files}

    def absent(needle: bytes, what: str) -> None:
        hits = [str(p) for p, blob in blobs.items() if needle in blob]
        assert not hits, f"{what} found in {hits}"

    hidden = loaded.spec.task(HIDDEN_ID)
    absent(HIDDEN_ID.encode(), "hidden task id")
    for check in hidden.checks:
        absent(f'"{check.id}"'.encode(), f"hidden check id {check.id}")
    docs = " ".join(s.doc for t in loaded.spec.tasks for s in t.symbols)
    labels = {c.label for name in ("softmax", "ce", "mse") for c in loaded.spec.cases[name]}
    shared = {
        c.label
        for name, cases in loaded.spec.cases.items()
        if name not in ("softmax", "ce", "mse")
        for c in cases
    }
    labels = {
        label for label in labels - shared if label and label not in docs
    }  # docs are interface
    assert "large logits (+-1000, +-88)" in labels
    for label in labels:
        absent(label.encode(), f"hidden case label {label!r}")
    full = build_plan(loaded.spec, include={HIDDEN_ID})
    for probe in full.tasks[HIDDEN_ID]:
        index = int(probe.id.rsplit("/", 1)[1])
        for seed in (probe.header["seed"], derive_seed("hw1", HIDDEN_ID, probe.check, index)):
            absent(str(seed).encode(), f"seed of {probe.id}")
            absent(seed.to_bytes(8, "little"), f"seed bytes of {probe.id}")
        for key, tensor in probe.tensors.items():
            if tensor.is_floating_point() and tensor.numel() >= 4:
                absent(tensor.contiguous().numpy().tobytes(), f"input {key}")
    for name in ("plan.safetensors", "expected.safetensors"):
        with safe_open(str(kit.root / name), framework="pt") as f:
            assert not [k for k in f.keys() if HIDDEN_ID in k or k.startswith("losses/")]
            assert HIDDEN_ID not in json.dumps(f.metadata())

    source = REFERENCE.read_text()
    absent(source.encode(), "the reference source")
    spec_text = (course.assignments / "hw1.toml").read_text()
    lines = source.splitlines()
    body = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            body |= {lines[i].strip() for i in range(node.body[0].lineno - 1, node.end_lineno)}
    body = {line for line in body if line and line not in spec_text}  # the spec is public by design
    assert len(body) > 80
    for line in body:
        absent(line.encode(), f"reference line {line!r}")
    assert sorted(p.name for p in files if p.suffix == ".py") == ["hw1.py"]
    assert not [p for p in files if "reference" in p.name or p.suffix == ".pyc"]

    # The hidden task's symbols are interface: declared in the template, nothing more.
    assert "def softmax(z, dim=-1):" in blobs[tmp_path / "out" / "hw1.py"].decode()
    assert "1 hidden task worth 2 points" in blobs[tmp_path / "out" / "README.md"].decode()
    assert (kit.manifest.hidden_tasks, kit.manifest.public_points) == (1, "13")
    assert kit_note(kit) == (
        "This kit checks 11.5 of 15 points: benchmark-catdog (1.5 points) runs on the course "
        "server; 1 hidden task (2 points) graded there too."
    )


def test_check_kit_cli_needs_no_course(kit_dir, tmp_path):
    """The CLI grades from the kit with no findable course, no reference, no cache writes."""
    work = tmp_path / "student"
    shutil.copytree(kit_dir, work)
    shutil.copy(REFERENCE, work / "hw1.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOGRADER_")}
    env["AUTOGRADER_COURSE"] = str(tmp_path / "no-such-course")  # any course lookup would fail
    env["AUTOGRADER_CACHE"] = str(tmp_path / "cache")
    cmd = [sys.executable, "-m", "autograder", "check", "hw1", "hw1.py", "--kit", ".", "--json"]
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["score_exact"], report["max_score_exact"]) == ("27/2", "15")
    assert not (tmp_path / "cache").exists()


def test_check_kit_cli_refuses_a_modified_kit_in_one_line(kit_dir, tmp_path, capsys):
    work = tmp_path / "student"
    shutil.copytree(kit_dir, work)
    (work / KIT_DIR / "spec.json").write_text("{}")
    assert main(["check", "hw1", str(REFERENCE), "--kit", str(work)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "spec.json: does not match its sha256 in manifest.json" in err
    assert main(["check", "hw1", str(REFERENCE), "--kit", str(kit_dir), "--course", str(REPO)]) == 2
    assert "exclude each other" in capsys.readouterr().err
