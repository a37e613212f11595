"""Homework 4 (generative models): the reference against torch's own implementations, the
digits dataset, the VAE and GAN recipes' metrics, the per-dimension distribution check, and
grading as students, TAs and staff use it (check, describe, kit, batch, final, determinism).

Every check's mutants and the correct alternatives are graded by ``tests/test_mutations.py``;
the benchmark mutants (``tests/mutants/hw4_benchmark``) by the slow test at the end.
"""

from __future__ import annotations

import importlib.util
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
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
)
from homework_support import close as _close
from scipy import stats
from torch.distributions import Bernoulli, Normal, kl_divergence

from autograder.data import digits
from autograder.data.dataset import DataContext
from autograder.errors import DataError
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.spec.models import DistributionCheck
from autograder.trusted.checks import distribution
from autograder.trusted.checks.outcome import ProbePair
from autograder.trusted.engine import Grader
from autograder.trusted.metrics import class_entropy, mean_confidence, negative_elbo
from autograder.trusted.plan import build_plan
from autograder.trusted.recipes import gan as gan_recipe
from autograder.trusted.recipes import vae as vae_recipe

REFERENCE, EXAMPLE, _ = homework_files("hw4")
NUMERICAL_MAX = Fraction(23, 2)  # 15 points less the two benchmarks (2 + 1.5)

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="the digits need scikit-learn: pip install -e '.[hw4]'",
)


ref = reference_fixture("hw4")

# -- the reference against torch.distributions and the torch built-ins ---------------------------


def test_reparameterize_with_eps_is_normal_mean_plus_stddev_times_eps(ref) -> None:
    g = torch.Generator().manual_seed(0)
    mu, logvar = (
        torch.randn(7, 5, generator=g, dtype=torch.float64),
        torch.randn(7, 5, generator=g, dtype=torch.float64),
    )
    eps = torch.randn(7, 5, generator=g, dtype=torch.float64)
    q = Normal(mu, torch.exp(0.5 * logvar))
    _close(ref.reparameterize(mu, logvar, eps), q.mean + q.stddev * eps)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    ref.reparameterize(mu, logvar, eps).sum().backward()
    _close(mu.grad, torch.ones_like(mu))
    _close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)


def test_reparameterize_without_eps_samples_the_normal(ref) -> None:
    """200,000 draws per dimension: mean and standard deviation within 6 standard errors of
    Normal(mu, exp(0.5 logvar))'s, and a KS test against its CDF (p > 1e-6)."""
    torch.manual_seed(1)
    mu = torch.tensor([[1.0, -2.0, 0.0, 0.5]], dtype=torch.float64)
    logvar = torch.tensor([[-6.0, -2.0, 0.5, 3.0]], dtype=torch.float64)
    n = 200_000
    z = ref.reparameterize(mu.repeat(n, 1), logvar.repeat(n, 1))
    q = Normal(mu[0], torch.exp(0.5 * logvar[0]))
    for j in range(4):
        col = z[:, j]
        sd = float(q.stddev[j])
        assert abs(float(col.mean()) - float(q.mean[j])) < 6 * sd / math.sqrt(n)
        assert abs(float(col.std()) / sd - 1) < 6 / math.sqrt(2 * n)
        p = stats.kstest(col.numpy(), stats.norm(float(q.mean[j]), sd).cdf).pvalue
        assert p > 1e-6


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_kl_std_normal_is_torch_kl_divergence_summed(ref, scale: float) -> None:
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(6, 4, generator=g, dtype=torch.float64) * scale
    logvar = torch.randn(6, 4, generator=g, dtype=torch.float64) * scale
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    _close(ref.kl_std_normal(mu, logvar), expected)
    # log-variances of +-20: torch goes through log(var_ratio), still exact in float64
    mu, logvar = torch.zeros(1, 2, dtype=torch.float64), torch.tensor([[20.0, -20.0]]).double()
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    _close(ref.kl_std_normal(mu, logvar), expected, rtol=1e-9, atol=1e-9)


def _vae_inputs(shape=(8, 64), latent=4, seed=3):
    g = torch.Generator().manual_seed(seed)
    recon = torch.randn(*shape, generator=g, dtype=torch.float64) * 3
    x = torch.rand(*shape, generator=g, dtype=torch.float64)
    mu = torch.randn(shape[0], latent, generator=g, dtype=torch.float64)
    logvar = torch.randn(shape[0], latent, generator=g, dtype=torch.float64) * 0.5
    return recon, x, mu, logvar


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"beta": 0.5}, {"reduction": "sum"}, {"beta": 4.0, "reduction": "sum"}, {"beta": 0.0}],
)
def test_vae_loss_bernoulli_is_bce_with_logits_plus_kl(ref, kwargs: dict) -> None:
    recon, x, mu, logvar = _vae_inputs()
    bce = F.binary_cross_entropy_with_logits(recon, x, reduction="none").sum(1)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    per_sample = bce + kwargs.get("beta", 1.0) * kl
    expected = per_sample.sum() if kwargs.get("reduction") == "sum" else per_sample.mean()
    _close(ref.vae_loss(recon, x, mu, logvar, **kwargs), expected)
    # the same as the Bernoulli likelihood of torch.distributions, for binary targets
    xb = (x > 0.5).double()
    nll = -Bernoulli(logits=recon).log_prob(xb).sum(1)
    _close(ref.vae_loss(recon, xb, mu, logvar, beta=0.0), nll.mean())


def test_vae_loss_gaussian_is_unit_variance_normal_nll_plus_kl(ref) -> None:
    recon, x, mu, logvar = _vae_inputs(shape=(4, 1, 8, 8), latent=3)
    nll = -Normal(recon, 1.0).log_prob(x).reshape(4, -1).sum(1)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    got = ref.vae_loss(recon, x, mu, logvar, likelihood="gaussian", beta=2.0, reduction="sum")
    _close(got, (nll + 2.0 * kl).sum())


def test_vae_loss_is_finite_for_extreme_logits_like_torch(ref) -> None:
    recon = torch.tensor([[1e4, -1e4, 88.0, -88.0], [20.0, -20.0, 0.0, 1e4]], requires_grad=True)
    x = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5, 0.0]])
    mu, logvar = torch.zeros(2, 2), torch.zeros(2, 2)
    got = ref.vae_loss(recon, x, mu, logvar)
    want = F.binary_cross_entropy_with_logits(recon, x, reduction="none").sum(1).mean()
    _close(got, want, rtol=1.3e-6, atol=1e-5)
    (g,) = torch.autograd.grad(got, recon)
    (w,) = torch.autograd.grad(want, recon)
    _close(g, w, rtol=1.3e-6, atol=1e-6)


LOGITS = [
    torch.randn(16, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 3,
    torch.tensor([1e4, -1e4, 88.0, -88.0, 20.0, -20.0, 0.0], dtype=torch.float64),
]


@pytest.mark.parametrize("logits", LOGITS, ids=["random", "extreme"])
def test_gan_losses_are_torch_bce_softplus_and_relu(ref, logits: torch.Tensor) -> None:
    real = logits.clone().requires_grad_(True)
    fake = (-logits.flip(0)).clone().requires_grad_(True)
    ones, zeros = torch.ones_like(real), torch.zeros_like(fake)
    pairs = [
        (
            ref.d_loss_bce(real, fake),
            F.binary_cross_entropy_with_logits(real, ones)
            + F.binary_cross_entropy_with_logits(fake, zeros),
        ),
        (ref.g_loss_minimax(fake), F.logsigmoid(-fake).mean()),
        (ref.g_loss_minimax(fake), -F.softplus(fake).mean()),
        (
            ref.g_loss_nonsaturating(fake),
            F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)),
        ),
        (ref.d_loss_hinge(real, fake), F.relu(1 - real).mean() + F.relu(1 + fake).mean()),
        (ref.g_loss_hinge(fake), -fake.mean()),
        (ref.d_loss_wasserstein(real, fake), fake.mean() - real.mean()),
    ]
    for got, want in pairs:
        assert got.dim() == 0 and torch.isfinite(got)
        _close(got, want)
        g = torch.autograd.grad(got, (real, fake), allow_unused=True, materialize_grads=True)
        w = torch.autograd.grad(want, (real, fake), allow_unused=True, materialize_grads=True)
        for a, b in zip(g, w, strict=True):
            _close(a, b)


def _critic(seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    ).double()


def _penalty_by_torch_func(critic, real, fake, alpha):
    """The WGAN-GP penalty and its gradient w.r.t. the critic's parameters, by torch.func
    (per-sample input gradients by vmap(grad), the parameter gradient by an outer grad): no
    autograd.grad, no create_graph."""
    names = [n for n, _ in critic.named_parameters()]
    params = {n: p.detach() for n, p in critic.named_parameters()}
    x_hat = alpha * real + (1 - alpha) * fake

    def penalty(p):
        def score(x):
            return torch.func.functional_call(critic, p, (x.unsqueeze(0),)).sum()

        g = torch.func.vmap(torch.func.grad(score))(x_hat)
        return ((g.reshape(g.shape[0], -1).norm(dim=1) - 1) ** 2).mean()

    return penalty(params), torch.func.grad(penalty)(params), names


def test_gradient_penalty_and_its_parameter_gradient_match_torch_func(ref) -> None:
    critic = _critic(5)
    g = torch.Generator().manual_seed(6)
    real = torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64)
    fake = torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64)
    alpha = torch.rand(6, 1, 1, 1, generator=g, dtype=torch.float64)
    value, grads, names = _penalty_by_torch_func(critic, real, fake, alpha)
    got = ref.gradient_penalty(critic, real, fake, alpha)
    _close(got, value)
    got.backward()
    for name, p in zip(names, critic.parameters(), strict=True):
        # the last bias shifts every score alike: the penalty does not depend on it
        _close(torch.zeros_like(p) if p.grad is None else p.grad, grads[name])
    assert float(critic[1].weight.grad.abs().max()) > 1e-3


# -- the metrics the benchmarks credit, against independent oracles ------------------------------


def test_negative_elbo_is_bernoulli_log_prob_plus_kl_divergence() -> None:
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(5, 9, 64, generator=g, dtype=torch.float64) * 4
    x = (torch.rand(9, 64, generator=g) > 0.5).double()
    mu, logvar = torch.randn(9, 3, generator=g).double(), torch.randn(9, 3, generator=g).double()
    recon = -Bernoulli(logits=logits).log_prob(x.expand_as(logits)).sum(-1).mean(0)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    assert negative_elbo(logits, x, mu, logvar) == pytest.approx(
        float((recon + kl).mean()), rel=1e-12
    )


def test_confidence_and_class_entropy_against_numpy_and_scipy() -> None:
    g = torch.Generator().manual_seed(8)
    probs = torch.softmax(torch.randn(500, 10, generator=g, dtype=torch.float64) * 3, dim=1)
    assert mean_confidence(probs) == pytest.approx(float(np.max(probs.numpy(), axis=1).mean()))
    counts = np.bincount(probs.numpy().argmax(1), minlength=10)
    assert class_entropy(probs) == pytest.approx(float(stats.entropy(counts)), rel=1e-12)
    one_class = torch.zeros(50, 10).index_fill_(1, torch.tensor([3]), 1.0)
    assert class_entropy(one_class) == 0.0
    uniform = torch.eye(10).repeat(7, 1)
    assert class_entropy(uniform) == pytest.approx(math.log(10))


# -- the digits dataset ------------------------------------------------------------------------------


@needs_sklearn
def test_digits_are_scikit_learns_load_digits() -> None:
    from sklearn.datasets import load_digits

    images, labels, sha = digits.read_digits(digits.package_file())
    bunch = load_digits()
    assert np.array_equal(images.reshape(-1, 64).numpy(), bunch.data)
    assert np.array_equal(labels.numpy(), bunch.target)
    assert images.dtype == torch.uint8 and tuple(images.shape) == (1797, 1, 8, 8)
    assert sha == digits.KNOWN_SHA256


@needs_sklearn
def test_digits_held_out_third_is_stratified_disjoint_and_seeded() -> None:
    a = digits.DATASET.load(DataContext(None, 11))
    b = digits.DATASET.load(DataContext(None, 11))
    c = digits.DATASET.load(DataContext(None, 12))
    assert (a.info["train"], a.info["held_out"]) == (1198, 599)
    assert torch.equal(a.held_out["images"], b.held_out["images"]) and a.sha256 == b.sha256
    assert not torch.equal(a.held_out["images"], c.held_out["images"]) and a.sha256 != c.sha256
    counts = a.held_out["labels"].bincount(minlength=10)
    assert int(counts.min()) >= 58 and int(counts.max()) <= 61
    # no held-out image is a training image (rows of the file are distinct images)
    train = {bytes(row) for row in a.train["images"].reshape(-1, 64).numpy()}
    held = [bytes(row) for row in a.held_out["images"].reshape(-1, 64).numpy()]
    assert sum(row in train for row in held) <= 2  # the file itself holds 1 duplicate pair


def test_digits_without_scikit_learn_is_a_data_error_naming_the_extra(monkeypatch) -> None:
    from autograder.data import dataset

    # the one place a loader looks for an installed package
    monkeypatch.setattr(dataset.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match=r"autograder\[hw4\]"):
        digits.DATASET.load(DataContext(None, 1))


def test_a_damaged_digits_file_is_a_located_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "digits.csv.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match=str(bad)):
        digits.read_digits(bad)
    import gzip

    bad.write_bytes(gzip.compress(b"1,2,3\n"))
    with pytest.raises(DataError, match="expected"):
        digits.read_digits(bad)


@needs_sklearn
def test_gan_classifier_is_deterministic_and_recognises_real_digits() -> None:
    """The frozen classifier, trained on the held-out third, labels the training images (which
    it never saw) at least 90% right and is the same tensor for tensor when trained again."""
    splits = digits.DATASET.load(DataContext(None, 13))
    x = splits.held_out["images"].reshape(-1, 64).float() / 16
    first = gan_recipe.train_classifier(x, splits.held_out["labels"], 10)
    again = gan_recipe.train_classifier(x, splits.held_out["labels"], 10)
    assert all(torch.equal(first[k], again[k]) for k in first)
    probs = gan_recipe.class_probabilities(
        first, splits.train["images"].reshape(-1, 64).float() / 16
    )
    accuracy = float((probs.argmax(1) == splits.train["labels"]).double().mean())
    assert accuracy >= 0.9, accuracy
    # real training digits look like digits, and all ten of them
    assert mean_confidence(probs) > 0.85 and class_entropy(probs) > 2.2


@needs_sklearn
def test_vae_measure_of_an_untrained_model_is_far_worse_than_pixel_entropy_bound() -> None:
    """The trusted measure on a zero model: logits 0 give 64 ln 2 nats of reconstruction, and
    mu = logvar = 0 a KL of 0, so the negative ELBO is exactly 64 ln 2."""
    state = {
        f"{n}.weight": torch.zeros(s)
        for n, s in (
            ("enc", (128, 64)),
            ("mu", (8, 128)),
            ("logvar", (8, 128)),
            ("dec1", (128, 8)),
            ("dec2", (64, 128)),
        )
    }
    state.update(
        {
            f"{n}.bias": torch.zeros(s)
            for n, s in (("enc", 128), ("mu", 8), ("logvar", 8), ("dec1", 128), ("dec2", 64))
        }
    )
    x = (torch.rand(20, 64, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    assert vae_recipe.held_out_neg_elbo(state, x, 4, 0) == pytest.approx(64 * math.log(2))


# -- the per-dimension distribution check ------------------------------------------------------------


def _pair(student: np.ndarray, reference: np.ndarray) -> ProbePair:
    return probe_pair(
        {"sample": torch.from_numpy(student)}, {"sample": torch.from_numpy(reference)}
    )


def test_per_last_dim_tests_each_column_and_names_it() -> None:
    check = DistributionCheck(
        id="c",
        symbol="f",
        kind="distribution",
        cases="x",
        per_last_dim=True,
        tests=["ks", "mean", "std"],
    )
    rng = np.random.default_rng(0)
    scales = np.array([0.05, 0.4, 1.3, 4.5])
    reference = rng.normal(0.0, scales, size=(20000, 4))
    correct = rng.normal(0.0, scales, size=(20000, 4))
    assert distribution.evaluate(None, check, [_pair(correct, reference)]).status == "passed"
    wrong = correct.copy()
    wrong[:, 2] *= 1.1  # one dimension's standard deviation 10% off
    outcome = distribution.evaluate(None, check, [_pair(wrong, reference)])
    assert outcome.status == "failed" and "index 2 of the last dimension" in outcome.message
    # pooled over all dimensions, the same mistake would hide among the others' scales
    pooled = check.model_copy(update={"per_last_dim": False})
    flat = lambda a: a.reshape(-1)  # noqa: E731
    assert (
        distribution.evaluate(None, pooled, [_pair(flat(wrong), flat(reference))]).status
        == "passed"
    )
    shape = distribution.evaluate(None, check, [_pair(wrong.reshape(-1, 2), reference)])
    assert shape.status == "failed" and "shape" in shape.message


def test_sampling_probes_repeat_one_row_per_dimension() -> None:
    spec = load_assignment("hw4", Course(REPO)).spec
    plan = build_plan(spec, include={"reparameterize"})
    sampling = [p for p in plan.tasks["reparameterize"] if p.check == "sampling"]
    assert len(sampling) == 2 and all(p.header["per_last_dim"] for p in sampling)
    mu = sampling[0].tensors[sampling[0].header["args"][0]["t"]]
    assert tuple(mu.shape) == (20000, 8) and torch.equal(mu, mu[:1].expand_as(mu))


# -- grading: the reference, the example, determinism ---------------------------------------------


hw4_grader = warm_grader("hw4")

# What examples/hw4_student.py gets wrong, check by check, and a fragment of each message.
EXAMPLE_FAILS = {
    "reparameterize/with-eps-forward": "values differ",
    "reparameterize/with-eps-backward": "gradient of argument 1",
    "reparameterize/sampling": "of the last dimension: ",
    "kl/forward": "values differ",
    "kl/backward": "gradient of argument 0",
    "vae-loss/bernoulli": "logits of +-1e4, +-88, +-20 and 0: output: non-finite values",
    "gan-losses/g_loss_minimax-forward": "logits of +-1e4, +-88, +-20 and 0: output: non-finite",
    "gradient-penalty/critic-gradient": "critic flatten-linear(16, 8)-relu-linear(8, 1): ",
    "hinge-wasserstein/d_loss_wasserstein-forward": "",
    "hinge-wasserstein/d_loss_wasserstein-backward": "",
}


def test_reference_full_marks_example_loses_each_mistake_and_reruns_are_identical(
    hw4_grader: Grader,
) -> None:
    items = [("ref", REFERENCE), ("example", EXAMPLE), ("ref2", REFERENCE), ("example2", EXAMPLE)]
    graded = dict(hw4_grader.grade_many(items))
    ref, example = graded["ref"], graded["example"]
    assert failing_checks(ref) == {} and Fraction(ref.score_exact) == NUMERICAL_MAX
    assert_fails_exactly(example, EXAMPLE_FAILS)
    hidden = example.task("hinge-wasserstein")
    assert hidden.status == "partial" and "details are not shown" in hidden.message
    # the same file, graded again: the same scores and messages, check by check
    for first, again in ((ref, graded["ref2"]), (example, graded["example2"])):
        assert first.score_exact == again.score_exact
        assert failing_checks(first) == failing_checks(again)
    lost = NUMERICAL_MAX - Fraction(example.score_exact)
    assert lost == Fraction(2) + Fraction(3, 2) + Fraction(5, 8) + Fraction(5, 12) + Fraction(
        1
    ) + Fraction(1, 3)


def test_cli_check_and_describe_end_to_end() -> None:
    report = check_json("hw4", EXAMPLE)
    assert report["assignment"] == "hw4" and report["max_score_exact"] == "15"
    assert Fraction(report["score_exact"]) < NUMERICAL_MAX
    assert {t["id"]: t["status"] for t in report["tasks"]}["benchmark-vae"] == "skipped"
    text = cli_ok("describe", "hw4")
    for needle in (
        "reparameterize(mu, logvar, eps=None)",
        "gradient_penalty(critic, real, fake, alpha)",
        "binary_cross_entropy_with_logits",
        "1 hidden task",
        "benchmark-gan",
    ):
        assert needle in text, needle
    assert "d_loss_hinge" not in text  # hidden: its count and points only


def test_kit_checks_the_public_tasks_without_the_course(tmp_path: Path) -> None:
    """A kit built by staff grades the reference's public numerical tasks from the kit alone
    (10.5: 11.5 less the hidden task's point); the benchmarks stay on the server."""
    kit, template = build_kit("hw4", tmp_path)
    assert "def gradient_penalty(critic, real, fake, alpha):" in template
    assert "def d_loss_hinge(real_logits, fake_logits):" in template  # hidden, still declared
    report = check_from_kit("hw4", kit, tmp_path / "student", REFERENCE.read_text())
    statuses = {t["id"]: t["status"] for t in report["tasks"]}
    assert statuses["benchmark-vae"] == statuses["benchmark-gan"] == "skipped"
    assert report["score_exact"] == "21/2", statuses


def test_batch_into_the_gradebook_and_final_counts_hw4(tmp_path: Path) -> None:
    rows = batch_then_final("hw4", tmp_path)
    assert Fraction(rows["s1"]["hw4"]) == NUMERICAL_MAX
    assert Fraction(rows["s2"]["hw4"]) < NUMERICAL_MAX
    assert Fraction(rows["s1"]["total"]) == NUMERICAL_MAX + 30
    assert "hw4" not in rows["s1"]["missing"]


# -- the benchmarks, trained for real -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1200)  # six trainings of both benchmarks on a shared 2-core machine
@needs_sklearn
def test_benchmarks_reference_full_marks_and_broken_parts_lose_points(tmp_path: Path) -> None:
    """The reference gets 15/15, its training rerun as a submission measuring exactly what the
    grader's own reference run measured; the VAE without KL or without the 0.5, and the GAN
    with a generator loss of the wrong sign or a discriminator loss without its fake term, each
    lose points of their own benchmark only (one grade_many, two workers)."""
    items = [("reference", REFERENCE), *benchmark_items("hw4", tmp_path)]
    with Grader(load_assignment("hw4", Course(REPO)), workers=2, require_data=True) as grader:
        graded = dict(grader.grade_many(items))
    reference = graded.pop("reference")
    assert Fraction(reference.score_exact) == 15, failing_checks(reference)
    for task, names in (
        ("benchmark-vae", ["neg_elbo"]),
        ("benchmark-gan", ["confidence", "class_entropy"]),
    ):
        metrics = reference.task(task).checks[0].metrics
        # two trainings of the same file (the grader's reference run, this submission): equal
        assert all(metrics[n] == metrics[f"reference_{n}"] for n in names), metrics
        assert metrics["curves"] == metrics["reference_curves"]
    assert set(graded) == {
        "vae_no_kl",
        "vae_no_half",
        "gan_generator_sign",
        "gan_no_fake_term",
    }
    for name, report in graded.items():
        task = "benchmark-vae" if name.startswith("vae") else "benchmark-gan"
        other = "benchmark-gan" if name.startswith("vae") else "benchmark-vae"
        assert Fraction(report.task(task).score_exact) < Fraction(
            reference.task(task).score_exact
        ), (name, report.task(task).checks[0].message)
        assert report.task(other).score_exact == reference.task(other).score_exact, name


def test_data_list_shows_how_to_get_the_digits(monkeypatch, capsys) -> None:
    """The listing prints provider text as it is: "autograder[hw4]" is not rich markup."""
    from autograder.cli import main

    monkeypatch.setenv("COLUMNS", "250")
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "pip install 'autograder[hw4]' (scikit-learn)" in out
