"""Python values on the wire (``returns = "value"``): the typed JSON grammar, its caps, and how
the trusted side compares two values. Fast unit tests; the homework tests grade real ones."""

from __future__ import annotations

import json
import math

import pytest
import torch

from autograder.spec.models import Tolerance
from autograder.trusted.checks.values import value_mismatch
from autograder.wire import steps, text, values

TOL = Tolerance(rtol=1e-7, atol=1e-7)


def _roundtrip(value):
    tree, tensors = values.encode(value)
    # what the worker sends is JSON: it must survive json.dumps/loads unchanged
    return values.decode(json.loads(json.dumps(tree, allow_nan=False)), tensors)


def test_values_round_trip_with_their_types() -> None:
    value = {
        "<pad>": 0,
        "word": 7,
        "spans": [("PER", 0, 1), ("LOC", 3, 3)],
        "scores": (0.25, math.inf, -math.inf),
        "flag": True,
        "none": None,
        "tensor": torch.arange(3),
        5: "int key",
    }
    back = _roundtrip(value)
    assert back["spans"] == [("PER", 0, 1), ("LOC", 3, 3)]
    assert isinstance(back["spans"], list) and isinstance(back["spans"][0], tuple)
    assert back["scores"][1:] == (math.inf, -math.inf) and back["flag"] is True
    assert torch.equal(back["tensor"], torch.arange(3)) and back[5] == "int key"
    assert math.isnan(_roundtrip(float("nan")))


@pytest.mark.parametrize(
    "bad",
    [
        object(),
        {1.5: "float key"},
        {True: "bool key"},
        "x" * (values.MAX_STRING + 1),
        2**70,
        list(range(values.MAX_NODES + 1)),
    ],
)
def test_encode_refuses_what_the_grammar_cannot_carry(bad) -> None:
    with pytest.raises(ValueError):
        values.encode(bad)


def test_encode_refuses_deep_nesting() -> None:
    deep: list = []
    for _ in range(values.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        values.encode(deep)


@pytest.mark.parametrize(
    "tree",
    [
        {"list": [1], "tuple": [2]},
        {"dict": [["a", 1], ["a", 2]]},
        {"dict": [[1.5, 1]]},
        {"float": "nan-ish"},
        {"tensor": 3},
        {"pickle": "gASV"},
        [1, 2],
        2**64,
        math.nan,
    ],
)
def test_decode_accepts_only_the_grammar(tree) -> None:
    """What a hostile worker could send instead of a value is refused, not interpreted."""
    with pytest.raises(ValueError):
        values.decode(tree, {})


def test_decode_names_a_tensor_that_did_not_arrive() -> None:
    with pytest.raises(ValueError, match="did not arrive"):
        values.decode({"tensor": "out.0"}, {})
    assert values.decode({"tensor": "out.0"}) == values.TensorRef("out.0")


@pytest.mark.parametrize(
    ("actual", "expected", "fragment"),
    [
        ({"a": 0, "b": 1}, {"b": 1, "a": 0}, None),  # a dict's order does not matter
        ({"a": 0}, {"a": 0, "b": 1}, "has no key 'b'"),
        ({"a": 0, "c": 1}, {"a": 0}, "unexpected key 'c'"),
        ({"a": 1}, {"a": 0}, "['a'] is 1, expected 0"),
        ([("PER", 0, 1)], [("PER", 0, 2)], "[0][2] is 1, expected 2"),
        ([["PER", 0, 1]], [("PER", 0, 1)], "is a list"),
        ([("PER", 0, 1)], [], "has 1 items, expected 0 (unexpected: ('PER', 0, 1))"),
        (1, 1.0, "is an int 1, expected a float"),
        (True, 1, "is a bool"),
        (0.1 + 1e-9, 0.1, None),
        (0.1 + 1e-5, 0.1, "is 0.10001, expected 0.1"),
        (math.nan, 0.1, "is nan"),
        (None, torch.zeros(2), "is None, expected a Tensor"),
        ((torch.ones(2), 0.5), (torch.zeros(2), 0.5), "2 of 2 values differ"),
    ],
)
def test_value_mismatch_names_the_first_difference(actual, expected, fragment) -> None:
    problem = value_mismatch(actual, expected, TOL)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem, problem


def test_packed_text_round_trips_and_rejects_bad_offsets() -> None:
    lists = [["héllo", "wörld", ""], [], ["a"]]
    packed = text.pack(lists)
    assert text.unpack(packed) == lists
    packed["token_ends"] = torch.tensor([3, 1, 2, 3])
    with pytest.raises(ValueError):
        text.unpack(packed)


def test_lm_step_is_exact_and_independent_of_the_batch() -> None:
    g = torch.Generator().manual_seed(0)
    params = {
        "embed": torch.randn(8, 6, generator=g),
        "out": torch.randn(6, 8, generator=g),
        "bias": torch.randn(8, generator=g),
        "context": torch.randn(1, 6, generator=g),
    }
    step = steps.build("lm", params, {"quantum": 0.0625, "eos_id": 2, "eos_ramp": 0.5})
    prefixes = torch.tensor([[1, 3, 4], [1, 5, 2], [1, 7, 7]])
    together = step(prefixes)
    alone = torch.cat([step(prefixes[i : i + 1]) for i in range(3)])
    assert together.dtype == torch.float64 and torch.equal(together, alone)
    assert torch.allclose(together.exp().sum(-1), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="outside"):
        step(torch.tensor([[1, 8]]))
    with pytest.raises(TypeError):
        step(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(KeyError, match="unknown callable"):
        steps.build("oracle", params, {})
