"""Homework 3 beyond the shared mutation harness (``tests/test_mutations.py``).

- the reference solution against independent implementations: torch's scaled_dot_product_attention,
  nn.MultiheadAttention (state dicts loaded both ways) and pad_sequence, seqeval, pytorch-crf and
  nltk's BLEU; the trusted metrics (span F1, BLEU) against the same libraries;
- the text datasets: verified files, seeded splits that keep held-out parts apart;
- grading: the reference's full marks, the example's score and the message that names each of
  its mistakes, determinism, the CLI, the kit, describe, a batch and ``final``;
- the benchmarks (slow): the reference's full marks, benchmark mutants that lose points, and the
  translation's references never reaching the worker.

Intended differences from the oracles, documented in the README: ``corpus_bleu`` returns exactly
0 where nltk returns about 1e-77 (a zero precision without smoothing); ``crf_decode`` returns a
padded tensor where pytorch-crf returns lists.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from homework_support import (
    REPO,
    assert_fails_exactly,
    benchmark_items,
    build_kit,
    cli,
    cli_ok,
    failing_checks,
    homework_files,
    load_module,
    numerical_max,
    warm_grader,
)

from autograder.data.dataset import DataContext
from autograder.errors import DataError
from autograder.report import Report
from autograder.spec.course import Course
from autograder.spec.load import load_assignment
from autograder.trusted import metrics
from autograder.trusted.engine import Grader
from autograder.wire.frames import decode_tensors

REFERENCE, EXAMPLE, _ = homework_files("hw3")
DATA = Path(os.environ.get("AUTOGRADER_DATA") or REPO.parent / "shared" / "data").resolve()


ref = load_module(REFERENCE, "hw3_reference")  # our own reference solution, in the test process


def _failing(report: Report) -> dict[str, str]:
    return failing_checks(report, with_status=True)


# -- the reference against torch's built-ins ------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_attention_matches_torch(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, 3, 5, 8, generator=g), torch.randn(2, 3, 7, 8, generator=g)
    v = torch.randn(2, 3, 7, 4, generator=g)
    allowed = torch.rand(5, 7, generator=g) > 0.4
    allowed[:, 0] = True  # no fully masked row (the contract's convention)
    for kwargs in (
        {},
        {"attn_mask": allowed},
        {"attn_mask": torch.randn(5, 7, generator=g)},
        {"is_causal": True},
        {"scale": 0.3},
    ):
        torch.testing.assert_close(
            ref.scaled_dot_product_attention(q, k, v, **kwargs),
            F.scaled_dot_product_attention(q, k, v, **kwargs),
        )
    # the causal mask is the top-left tril(L, S), also when L > S
    q6 = torch.randn(1, 6, 4, generator=g)
    k4, v4 = torch.randn(1, 4, 4, generator=g), torch.randn(1, 4, 2, generator=g)
    torch.testing.assert_close(
        ref.scaled_dot_product_attention(q6, k4, v4, is_causal=True),
        F.scaled_dot_product_attention(q6, k4, v4, is_causal=True),
    )


def test_attention_gradients_match_torch() -> None:
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(2, 2, 4, 3, dtype=torch.float64, generator=g) for _ in range(3)]
    mask = torch.randn(4, 4, dtype=torch.float64, generator=g)
    grads = []
    for fn in (ref.scaled_dot_product_attention, F.scaled_dot_product_attention):
        leaves = [x.clone().requires_grad_(True) for x in inputs]
        fn(*leaves, attn_mask=mask, scale=0.7).pow(2).sum().backward()
        grads.append([x.grad for x in leaves])
    for mine, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("bias", [True, False])
def test_multihead_attention_loads_torch_state_both_ways(bias: bool) -> None:
    torch.manual_seed(0)
    mine = ref.MultiheadAttention(16, 4, bias=bias)
    theirs = torch.nn.MultiheadAttention(16, 4, bias=bias, batch_first=True)
    theirs.load_state_dict(mine.state_dict())
    mine.load_state_dict(theirs.state_dict())
    assert list(mine.state_dict()) == list(theirs.state_dict())
    x, y = torch.randn(2, 5, 16), torch.randn(2, 6, 16)
    padding = torch.zeros(2, 6, dtype=torch.bool)
    padding[0, 4:] = True
    banned = torch.rand(5, 6) > 0.7
    banned[:, 0] = False
    for kwargs in (
        {},
        {"key_padding_mask": padding},
        {"attn_mask": banned},
        {"attn_mask": torch.randn(5, 6)},
        {"average_attn_weights": False},
        {"need_weights": False, "key_padding_mask": padding},
    ):
        out, weights = mine(x, y, y, **kwargs)
        expected, expected_weights = theirs(x, y, y, **kwargs)
        torch.testing.assert_close(out, expected)
        if expected_weights is None:
            assert weights is None
        else:
            torch.testing.assert_close(weights, expected_weights)


def test_positional_encoding_is_the_formula() -> None:
    pe = ref.positional_encoding(50, 16)
    assert pe.dtype == torch.float32 and pe.shape == (50, 16)
    p, i = 37, 3
    angle = p / 10000 ** (2 * i / 16)
    assert pe[p, 2 * i].item() == pytest.approx(torch.tensor(angle).sin().item(), abs=1e-6)
    assert pe[p, 2 * i + 1].item() == pytest.approx(torch.tensor(angle).cos().item(), abs=1e-6)


def test_text_pipeline_matches_pad_sequence_and_the_contract() -> None:
    from torch.nn.utils.rnn import pad_sequence

    seqs = [torch.tensor([3, 1, 4]), torch.tensor([1]), torch.tensor([5, 9, 2, 6])]
    padded, lengths = ref.pad_batch(seqs, padding_value=-1)
    assert torch.equal(padded, pad_sequence(seqs, batch_first=True, padding_value=-1))
    assert lengths.tolist() == [3, 1, 4] and lengths.dtype == torch.int64
    vocab = ref.build_vocab([["b", "a", "B", "a"], ["<unk>", "c", "b"]], max_size=2)
    # specials first; a (2) before b (2) by string order; B after: "B" < "a" but counts 1
    assert list(vocab.items()) == [
        ("<pad>", 0),
        ("<unk>", 1),
        ("<bos>", 2),
        ("<eos>", 3),
        ("a", 4),
        ("b", 5),
    ]
    assert ref.encode(["a", "zzz"], vocab).tolist() == [4, 1]
    x = torch.randn(2, 3, 4)
    assert torch.allclose(
        ref.masked_mean(x, torch.tensor([1, 3])), torch.stack([x[0, 0], x[1].mean(0)])
    )


# -- NER against seqeval and pytorch-crf ----------------------------------------------------


def _random_tags(rng: random.Random, n: int) -> list[str]:
    labels = ["O"] + [f"{p}-{t}" for p in "BI" for t in ("PER", "LOC", "ORG")]
    return [rng.choice(labels) for _ in range(n)]


def test_spans_and_scores_match_seqeval() -> None:
    seqeval = pytest.importorskip("seqeval.metrics")
    from seqeval.metrics.sequence_labeling import get_entities

    rng = random.Random(0)
    for _ in range(1000):
        tags = _random_tags(rng, rng.randint(0, 12))
        assert ref.bio_to_spans(tags) == get_entities(tags), tags
    for _ in range(200):
        y_true = [_random_tags(rng, rng.randint(1, 8)) for _ in range(5)]
        y_pred = [_random_tags(rng, len(s)) for s in y_true]
        p, r, f1 = ref.span_scores(y_true, y_pred)
        assert p == pytest.approx(seqeval.precision_score(y_true, y_pred), abs=1e-12)
        assert r == pytest.approx(seqeval.recall_score(y_true, y_pred), abs=1e-12)
        assert f1 == pytest.approx(seqeval.f1_score(y_true, y_pred), abs=1e-12)
        assert metrics.span_f1(y_true, y_pred) == pytest.approx(f1, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_crf_matches_pytorch_crf(seed: int) -> None:
    torchcrf = pytest.importorskip("torchcrf")
    torch.manual_seed(seed)
    batch, steps, k = 4, 6, 5
    crf = torchcrf.CRF(k, batch_first=True).double()
    emissions = torch.randn(batch, steps, k, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 3, 1, 5])
    mask = torch.arange(steps)[None] < lengths[:, None]
    tags = torch.randint(k, (batch, steps)) * mask
    params = (crf.start_transitions, crf.end_transitions, crf.transitions)
    mine = ref.crf_log_likelihood(emissions, tags, mask, *params)
    theirs = crf(emissions, tags, mask, reduction="none")
    torch.testing.assert_close(mine, theirs)
    grads = [torch.autograd.grad(out.sum(), [emissions, *params]) for out in (mine, theirs)]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
    decoded = ref.crf_decode(emissions.detach(), mask, *params)
    for row, path in enumerate(crf.decode(emissions.detach(), mask)):
        assert decoded[row, : len(path)].tolist() == path
        assert (decoded[row, len(path) :] == -1).all()


def test_crf_single_step_gives_transitions_no_gradient() -> None:
    emissions = torch.randn(2, 1, 3, dtype=torch.float64, requires_grad=True)
    trans = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    start, end = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    tags, mask = torch.tensor([[1], [2]]), torch.ones(2, 1, dtype=torch.bool)
    out = ref.crf_log_likelihood(emissions, tags, mask, start, end, trans)
    _, grad = torch.autograd.grad(out.sum(), [emissions, trans], allow_unused=True)
    assert grad is None or bool((grad == 0).all())


# -- decoding and BLEU ----------------------------------------------------------------------


def test_bleu_matches_nltk() -> None:
    bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = random.Random(1)
    words = "a b c d e f".split()
    for _ in range(400):
        hyps = [[rng.choice(words) for _ in range(rng.randint(0, 8))] for _ in range(4)]
        refs = [
            [
                [rng.choice(words) for _ in range(rng.randint(1, 8))]
                for _ in range(rng.randint(1, 3))
            ]
            for _ in range(4)
        ]
        n = rng.randint(1, 4)
        expected = bleu.corpus_bleu(refs, hyps, weights=(1 / n,) * n)
        # nltk gives ~1e-77 instead of 0 for a zero precision: equal within 1e-9 (intended)
        assert ref.corpus_bleu(hyps, refs, n) == pytest.approx(expected, abs=1e-9)
        assert metrics.corpus_bleu(hyps, refs, n) == pytest.approx(expected, abs=1e-9)


def _lm(context_rows: int, quantum: float, embed_scale: float = 1.0):
    from autograder.wire import steps

    g = torch.Generator().manual_seed(7)
    params = {
        "embed": torch.randn(8, 6, generator=g) * embed_scale,
        "out": torch.randn(6, 8, generator=g),
        "bias": torch.randn(8, generator=g),
        "context": torch.randn(context_rows, 6, generator=g),
    }
    return steps.build("lm", params, {"quantum": quantum, "eos_id": 2, "eos_ramp": 0.6})


def test_beam_of_one_is_greedy_and_scores_are_log_probabilities() -> None:
    step = _lm(1, 2.0**-20)
    tokens, score = ref.beam_search(step, 1, 2, 1, 12)
    greedy = ref.greedy_decode(step, 1, 2, 12)[0]
    assert torch.equal(tokens, greedy)
    # the returned score is the sum of the step's log-probabilities of the tokens
    total = sum(
        float(step(torch.tensor([[1, *tokens[:i].tolist()]]))[0, t])
        for i, t in enumerate(tokens.tolist())
    )
    assert score == pytest.approx(total, abs=1e-12) and isinstance(score, float)
    wide, wide_score = ref.beam_search(step, 1, 2, 8, 12)
    assert wide_score >= score  # a wider beam never finds a worse best hypothesis here


def test_greedy_pads_finished_rows() -> None:
    """Row b emits EOS (2) after b tokens (3): every row after its EOS is padding (7), and
    decoding stops when the last row has finished."""

    def step(prefix: torch.Tensor) -> torch.Tensor:
        generated = prefix.shape[1] - 1
        logits = torch.zeros(prefix.shape[0], 8)
        for b in range(prefix.shape[0]):
            logits[b, 2 if generated >= b else 3] = 5.0
        return torch.log_softmax(logits, dim=-1)

    out = ref.greedy_decode(step, 1, 2, 12, batch_size=4, pad_id=7)
    assert out.tolist() == [[2, 7, 7, 7], [3, 2, 7, 7], [3, 3, 2, 7], [3, 3, 3, 2]]


# -- datasets -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_ctx() -> DataContext:
    if not (DATA / "text").is_dir():
        pytest.skip(f"text data not found in {DATA} (set AUTOGRADER_DATA)")
    return DataContext(str(DATA), 1234)


def test_splits_are_seeded_disjoint_and_stratified(data_ctx: DataContext) -> None:
    from autograder.data import bible, sentiment, wnut16
    from autograder.wire.text import unpack

    splits = sentiment.DATASET.load(data_ctx)
    assert splits.held_out["labels"].bincount().tolist() == [1000, 1000]
    assert splits.info["train"] + splits.info["held_out"] == 10568
    again = sentiment.DATASET.load(data_ctx)
    assert unpack(again.held_out, "text.") == unpack(splits.held_out, "text.")
    other = sentiment.DATASET.load(DataContext(str(DATA), 99))
    assert unpack(other.held_out, "text.") != unpack(splits.held_out, "text.")
    assert other.sha256 != splits.sha256  # the split is part of what the caches key on
    ner = wnut16.DATASET.load(data_ctx)
    assert ner.info["train"] + ner.info["held_out"] == 2394 and ner.info["held_out"] == 400
    pairs = bible.DATASET.load(data_ctx)
    held = {tuple(r) for r in unpack(pairs.held_out, "reference.")}
    assert 200 <= pairs.info["held_out"] <= 300 and len(held) > 150
    # no held-out source appears among the training sources
    train_src = {
        tuple(r[: int(n)].tolist())
        for r, n in zip(pairs.train["src"], pairs.train["src_len"], strict=True)
    }
    held_src = [
        tuple(r[: int(n)].tolist())
        for r, n in zip(pairs.held_out["src"], pairs.held_out["src_len"], strict=True)
    ]
    # split by verse: a held-out source is in training only where the Bible repeats a sentence
    # word for word in another verse ("And Yahweh spoke to Moses, saying, ...")
    assert sum(s in train_src for s in held_src) < len(held_src) // 5


def test_a_changed_corpus_is_refused_and_a_missing_one_names_the_fix(
    tmp_path: Path, data_ctx
) -> None:
    from autograder.data import bible, wnut16

    root = tmp_path / "data"
    (root / "text").mkdir(parents=True)
    original = DATA / "text" / "wnut16_twitter_ner_train.txt"
    (root / "text" / original.name).write_bytes(
        original.read_bytes().replace(b"B-person", b"B-company", 1)
    )
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="has sha256"):
        wnut16.DATASET.load(DataContext(str(root), 1, cache))
    with pytest.raises(DataError, match="AUTOGRADER_DATA"):
        bible.DATASET.load(DataContext(str(root), 1, cache))
    # a verified copy is kept in the cache and found there when the data root lacks the file
    bible.DATASET.load(DataContext(str(DATA), 1, cache))
    assert bible.DATASET.load(DataContext(str(root), 1, cache)).info["held_out"] > 0
    with gzip.open(DATA / "text" / "bible_en_es.tsv.gz", "rt") as fh:
        assert fh.readline().startswith("verse")


# -- grading --------------------------------------------------------------------------------


hw3_grader = warm_grader("hw3", workers=1)


@pytest.fixture(scope="module")
def graded(hw3_grader: Grader) -> dict:
    """The reference and the example (twice) in one grade_many, shared by the tests below."""
    items = [("reference", REFERENCE), ("example", EXAMPLE), ("example-again", EXAMPLE)]
    return dict(hw3_grader.grade_many(items))


# Each mistake of examples/hw3_student.py and a fragment of the message that names it.
EXAMPLE_MISTAKES = {
    "attention/sdpa-masks": "boolean attn_mask (True: may attend)",
    "text/vocab-order": "counts with ties",
    "text/masked-mean-forward": "values differ",
    "text/bag-forward": "values differ",
    "decoding/beam": "length_penalty=1.0",
    "decoding/bleu-brevity": "hypotheses shorter than their references",
    "ner/spans-loose-i": "I- after O starts an entity",
    # hidden: the score and status only (masked_mean's divide-by-T)
    "edge-cases/masked-mean-nonfinite-padding": "",
}


def test_reference_full_marks_example_less_and_deterministic(
    hw3_grader: Grader, graded: dict
) -> None:
    reference = graded["reference"]
    assert Fraction(reference.score_exact) == numerical_max(hw3_grader) == 12, _failing(reference)
    example = graded["example"]
    assert_fails_exactly(example, EXAMPLE_MISTAKES)
    assert 6 < float(example.score) < 10
    # the same file graded twice: the same report, check for check
    again = graded["example-again"]
    assert again.score_exact == example.score_exact
    assert [(c.id, c.message) for t in again.tasks for c in t.checks] == [
        (c.id, c.message) for t in example.tasks for c in t.checks
    ]


def test_cli_check_describe_and_kit(tmp_path: Path, hw3_grader: Grader, graded: dict) -> None:
    """describe, kit, and check from the kit: the example's public tasks score as on the server
    (graded in-process above; one CLI check fewer keeps this test under a minute)."""
    text = " ".join(cli_ok("describe", "hw3").split())
    for fragment in ("beam_search", "MultiheadAttention", "crf_log_likelihood", "1 hidden task"):
        assert fragment in text, fragment

    kit, template = build_kit("hw3", tmp_path)
    assert (
        "def beam_search(step, bos_id, eos_id, beam_size, max_len, length_penalty=0.0):" in template
    )
    student = tmp_path / "student"
    shutil.copytree(kit, student)
    shutil.copy(EXAMPLE, student / "hw3.py")
    kit_report = json.loads(cli_ok("check", "hw3", "hw3.py", "--kit", ".", "--json", cwd=student))
    assert kit_report["max_score_exact"] == "27/2"  # the hidden task is not in a kit
    public = {
        t.id: t.score_exact
        for t in graded["example"].tasks
        if t.id in ("attention", "text", "decoding", "ner")
    }
    assert {t["id"]: t["score_exact"] for t in kit_report["tasks"] if t["id"] in public} == public
    failing = {
        f"{t['id']}/{c['id']}"
        for t in kit_report["tasks"]
        for c in t["checks"]
        if c["status"] == "failed"
    }
    assert failing == {c for c in EXAMPLE_MISTAKES if not c.startswith("edge-cases/")}
    # the template itself imports and fails every check (on the warm grader: one CLI run fewer)
    [(_, empty)] = hw3_grader.grade_many([("template", kit / "hw3.py")])
    assert isinstance(empty, Report) and Fraction(empty.score_exact) == 0


def test_batch_grades_hw3_into_the_gradebook_and_final_counts_it(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "ref").mkdir(parents=True)
    shutil.copy(REFERENCE, subs / "ref" / "hw3.py")
    shutil.copy(EXAMPLE, subs / "student.py")
    db = tmp_path / "gb.sqlite"
    done = cli("batch", "hw3", str(subs), "--db", str(db), "--skip-benchmarks", "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "final.csv"
    final = cli("final", "--db", str(db), "--out", str(out))
    assert final.returncode == 0, final.stdout + final.stderr
    rows = {line.split(",")[0]: line for line in out.read_text().splitlines()[1:]}
    header = out.read_text().splitlines()[0].split(",")
    assert "hw3" in header
    column = header.index("hw3")
    assert Fraction(rows["ref"].split(",")[column]) == 12  # benchmarks skipped: 12 of 15
    assert 6 < float(rows["student"].split(",")[column]) < 10


# -- benchmarks (slow: real training) -------------------------------------------------------


@pytest.mark.slow
def test_benchmarks_reference_full_marks_and_mutants_lose_points(tmp_path: Path) -> None:
    """The reference earns the 3 benchmark points; a vocabulary that maps everything to
    <unk>, a CRF without its partition function and a beam search that ignores the length
    penalty each lose benchmark points (one grade_many on one warm grader)."""
    if not (DATA / "text").is_dir():
        pytest.skip(f"text data not found in {DATA}")
    items = [("reference", REFERENCE), *benchmark_items("hw3", tmp_path)]
    assignment = load_assignment("hw3", Course(REPO))
    with Grader(assignment, data_root=str(DATA), require_data=True) as grader:
        # what the worker receives for the translation benchmark: sources, never references
        bundle_keys = set(decode_tensors(grader._data["bible_en_es"].blob))
        graded = dict(grader.grade_many(items))
    assert {"data|bible_en_es|held_out_src", "data|bible_en_es|held_out_src_len"} <= bundle_keys
    assert not any("reference" in key or "tgt_vocab" in key for key in bundle_keys), bundle_keys
    reference = graded.pop("reference")
    assert Fraction(reference.score_exact) == 15, _failing(reference)
    task_of = {
        "unk_vocabulary": "benchmark-sentiment",
        "crf_without_partition": "benchmark-ner",
        "beam_ignores_length_penalty": "benchmark-translation",
    }
    assert set(graded) == set(task_of)
    for name, report in graded.items():
        task = report.task(task_of[name])
        assert Fraction(task.score_exact) < Fraction(1, 2), (name, task.checks[0].message)
        others = [t for t in report.tasks if t.id.startswith("benchmark-") and t.id != task.id]
        assert len(others) == 2
        assert all(Fraction(t.score_exact) == 1 for t in others), (name, _failing(report))
    translation = graded["beam_ignores_length_penalty"].task("benchmark-translation").checks[0]
    assert translation.metrics["verified"] == 0.0
    assert reference.task("benchmark-translation").checks[0].metrics["verified"] == 1.0
