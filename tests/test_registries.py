"""The registries stay consistent, and a spec mistake can never earn points.

- every check kind the spec accepts is registered once, with a planner, a worker runner and a
  trusted evaluator; every training recipe has both halves; every metric a recipe produces is
  registered;
- a check with no cases, an unknown recipe, params a recipe refuses or a metric it does not
  measure is a spec error naming the field; a check that reaches scoring with no probes is a
  "grader error", never a pass;
- the reference-cache fingerprint covers every module that can change a raw result.
"""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest

from autograder.errors import SpecError
from autograder.spec import models
from autograder.spec.load import parse_spec
from autograder.trusted import reference
from autograder.trusted.kinds import KINDS, kind
from autograder.trusted.metrics import METRICS
from autograder.trusted.plan import build_plan
from autograder.trusted.recipes import RECIPES as TRUSTED_RECIPES
from autograder.untrusted.recipes import RECIPES as WORKER_RECIPES
from autograder.untrusted.runners import RUNNERS

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


def _union_models() -> dict[str, type]:
    union = typing.get_args(models.Check)[0]
    return {
        typing.get_args(m.model_fields["kind"].annotation)[0]: m for m in typing.get_args(union)
    }


def test_the_spec_union_the_planner_the_runners_and_the_evaluators_agree() -> None:
    spec_kinds = _union_models()
    assert set(spec_kinds) == set(KINDS)
    for name, entry in KINDS.items():
        assert entry.name == name
        assert entry.model is spec_kinds[name]
        assert entry.runner in RUNNERS, f"{name}: no worker runner {entry.runner!r}"
        assert callable(entry.plan) and callable(entry.evaluate)
    assert set(RUNNERS) == {k.runner for k in KINDS.values()}


def test_every_recipe_has_both_halves_and_registered_metrics() -> None:
    assert set(TRUSTED_RECIPES) == set(WORKER_RECIPES)
    for name, recipe in TRUSTED_RECIPES.items():
        assert recipe.name == name
        assert recipe.produces and set(recipe.produces) <= set(METRICS), name
        recipe.params.model_validate({})  # every param has a default


def test_every_layer_of_the_architecture_union_can_be_built_and_exported() -> None:
    """A layer the spec accepts but the worker cannot export (or the grader cannot build) would
    be a network nobody can return: the union, the builders and the exporters hold the same
    names, and each exported layer rebuilds as its own torch class."""
    from autograder.wire import arch, modules

    union = typing.get_args(typing.get_args(arch.Layer)[0])
    names = {typing.get_args(m.model_fields["layer"].annotation)[0]: m for m in union}
    assert set(names) == set(modules.LAYERS)
    for name, entry in modules.LAYERS.items():
        config = {"layer": name, **_LAYER_EXAMPLES.get(name, {})}
        built = modules.torch_layer(arch.architecture([config]).layers[0])
        assert type(built) is entry.torch_class, name
        if name != "fake_quantize":  # exported from the submission's own class, not torch's
            (exported,), _ = modules.export(built)
            assert arch.architecture([exported]).layers[0] == arch.architecture([config]).layers[0]


_LAYER_EXAMPLES = {
    "conv2d": {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1},
    "batchnorm2d": {"num_features": 4},
    "maxpool2d": {"kernel_size": 2, "stride": 2},
    "adaptive_avgpool2d": {"output_size": 1},
    "linear": {"in_features": 4, "out_features": 2},
    "fake_quantize": {"scale": 0.1, "zero_point": 0},
}


def test_every_dataset_is_registered_once() -> None:
    from autograder.data.registry import datasets

    found = datasets()
    assert "catdog" in found
    for name, entry in found.items():
        assert entry.name == name and entry.title and entry.citation


def test_an_unknown_kind_is_an_error_not_zero_probes() -> None:
    from autograder.errors import AutograderError

    with pytest.raises(AutograderError, match="not registered"):
        kind("telepathy")


SPEC = """
id = "r"
title = "t"
points = 1
student_file = "r.py"
reference = "r"

[[tasks]]
id = "a"
title = "a"
points = 1
symbols = [{ name = "f", signature = "(x)" }]
"""


@pytest.mark.parametrize(
    ("check", "where", "why"),
    [
        (
            'id = "c"\nkind = "forward"\nsymbol = "f"\ncases = []',
            "tasks[0] (id 'a').checks[0] (id 'c').cases",
            "needs at least one case",
        ),
        (
            'id = "c"\nkind = "optimizer"\nsymbol = "f"\nconfigs = []',
            "tasks[0] (id 'a').checks[0] (id 'c').configs",
            "at least 1 item",
        ),
        (
            'id = "c"\nkind = "benchmark"\nrecipe = "mlp"\ndataset = "catdog"\n'
            "components = {}\ncredit = []",
            "tasks[0] (id 'a').checks[0] (id 'c').credit",
            "at least 1 item",
        ),
    ],
)
def test_a_check_with_nothing_to_run_is_a_located_spec_error(check, where, why) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(Path("r.toml"), SPEC + "\n[[tasks.checks]]\n" + check + "\n")
    assert where in str(caught.value) and why in str(caught.value)


def test_an_empty_named_case_set_is_a_located_spec_error() -> None:
    text = SPEC + '\n[[tasks.checks]]\nid = "c"\nkind = "forward"\nsymbol = "f"\ncases = "none"\n'
    text = text.replace('reference = "r"\n', 'reference = "r"\ncases = { none = [] }\n')
    with pytest.raises(SpecError, match=r"r.toml: cases: case set 'none' is empty"):
        parse_spec(Path("r.toml"), text)


BENCH = """
[[tasks.checks]]
id = "b"
kind = "benchmark"
recipe = "{recipe}"
dataset = "catdog"
components = {{}}
params = {params}
[[tasks.checks.credit]]
metric = "{metric}"
floor = 0.5
"""


@pytest.mark.parametrize(
    ("recipe", "params", "metric", "where", "why"),
    [
        ("nope", "{}", "accuracy", ".recipe", "unknown recipe 'nope'"),
        ("mlp", "{ hidden = 0 }", "accuracy", ".params.hidden", "greater than or equal to 1"),
        ("mlp", "{ hidden_size = 8 }", "accuracy", ".params.hidden_size", "Extra inputs"),
        ("mlp", "{}", "rmse", ".credit[0].metric", "measures accuracy, not 'rmse'"),
    ],
)
def test_recipe_params_and_metrics_are_checked_when_the_plan_is_built(
    recipe, params, metric, where, why
) -> None:
    spec = parse_spec(
        Path("r.toml"), SPEC + BENCH.format(recipe=recipe, params=params, metric=metric)
    )
    with pytest.raises(SpecError) as caught:
        build_plan(spec, data_info={"catdog": {}}, source="r.toml")
    message = str(caught.value)
    assert message.startswith("r.toml: tasks[0] (id 'a').checks[0] (id 'b')" + where), message
    assert why in message


def test_a_check_that_reaches_scoring_without_probes_is_a_grader_error() -> None:
    """A fixed plan (a kit) that lost a check's probes: the check is a grader error, 0 points,
    and the report says the submission could not be graded, so a rerun grades it again."""
    from autograder.trusted.checks import Outcome  # noqa: F401 - the engine's own path below
    from autograder.trusted.engine import Grader
    from autograder.trusted.probe import Plan
    from autograder.trusted.raw import Execution

    spec = parse_spec(
        Path("r.toml"),
        SPEC + '\n[[tasks.checks]]\nid = "c"\nkind = "forward"\nsymbol = "f"\n'
        "cases = [{ args = [{ randn = [2] }] }]\n",
    )
    grader = Grader.__new__(Grader)
    grader.spec, grader.skipped = spec, {}
    grader.plan = Plan("r", {"a": []})
    grader._reference, grader._truth = Execution(), {}
    result = grader._score_task(spec.tasks[0], Execution(), {})
    assert result.status == "grader error" and result.score == 0
    assert result.checks[0].status == "grader error"


def test_the_fingerprint_covers_every_module_that_can_change_a_raw_result(tmp_path: Path) -> None:
    """Edit each fingerprinted file in a copy of the package: the key changes every time."""
    copy = tmp_path / "autograder"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    files = reference.fingerprinted_files(copy)
    relative = {str(f.relative_to(copy)) for f in files}
    # the worker side, the wire, the planner and the dataset loaders, at least
    for needed in (
        "untrusted/child.py",
        "untrusted/runners.py",
        "untrusted/recipes/mlp.py",
        "wire/frames.py",
        "trusted/plan.py",
        "trusted/planners.py",
        "trusted/probe.py",
        "data/catdog.py",
        "data/registry.py",
    ):
        assert needed in relative, needed
    base = reference.engine_fingerprint(copy)
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        assert reference.engine_fingerprint(copy) != base, path
        path.write_bytes(original)
    assert reference.engine_fingerprint(copy) == base


def test_an_unknown_dataset_is_a_located_spec_error() -> None:
    spec = parse_spec(
        Path("r.toml"),
        SPEC
        + BENCH.format(recipe="mlp", params="{}", metric="accuracy").replace(
            'dataset = "catdog"', 'dataset = "imagenet"'
        ),
    )
    with pytest.raises(SpecError, match=r"checks\[0\] \(id 'b'\)\.dataset: unknown dataset"):
        build_plan(spec, source="r.toml")
