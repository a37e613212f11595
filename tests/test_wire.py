"""The frame format: what the worker writes, safetensors' own parser reads back exactly."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load as st_load

from autograder.errors import WorkerProtocolError
from autograder.wire import frames as wire

DTYPES = [
    torch.float64,
    torch.float32,
    torch.float16,
    torch.bfloat16,
    torch.int64,
    torch.int32,
    torch.int16,
    torch.int8,
    torch.uint8,
    torch.bool,
]


def _sample(dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    values = torch.randn(shape, generator=g, dtype=torch.float64) * 50
    return values > 0 if dtype == torch.bool else values.to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_dtype_and_layout_round_trips(dtype: torch.dtype) -> None:
    tensors = {
        "scalar": _sample(dtype, ()),
        "empty": _sample(dtype, (0, 3)),
        "odd": _sample(dtype, (3, 5, 7)),  # byte counts that need header padding
        "transposed": _sample(dtype, (4, 6)).t(),  # not contiguous
        "with grad": _sample(torch.float32, (2, 2)).requires_grad_(),
    }
    blob = wire.encode_tensors(tensors)
    loaded = st_load(blob)  # the library's parser validates every offset
    assert set(loaded) == set(tensors)
    for name, t in tensors.items():
        got = wire.decode_tensors(blob)[name]
        assert type(got) is torch.Tensor and not got.requires_grad
        assert got.dtype == t.dtype and got.shape == t.shape
        assert torch.equal(got, t.detach()), name


def test_a_frame_is_a_snapshot_of_the_outputs() -> None:
    """A later probe may change a tensor an earlier one returned (a module's weight): the
    earlier frame keeps the values it had when it was encoded."""
    weight = torch.zeros(3)
    frame = wire.encode({"type": "probe"}, {"w": weight, "t": weight.view(3, 1).t()})
    weight += 5
    _, tensors = wire.decode_body(frame[8:])
    assert tensors["w"].sum() == 0 and tensors["t"].sum() == 0


def test_decoded_tensors_own_their_memory() -> None:
    """Scoring may write to what it received: each tensor is writable and shares nothing."""
    blob = wire.encode_tensors({"a": torch.zeros(4), "b": torch.zeros(4)})
    first = wire.decode_tensors(blob)
    first["a"] += 1
    assert first["b"].sum() == 0 and first["a"].sum() == 4
    assert wire.decode_tensors(blob)["a"].sum() == 0  # the blob itself is untouched
    assert first["a"].untyped_storage().data_ptr() != first["b"].untyped_storage().data_ptr()


def test_a_header_that_lies_about_shapes_is_a_protocol_error() -> None:
    blob = wire.encode_tensors({"a": torch.zeros(4)})
    head_len = int.from_bytes(blob[:8], "little")
    header = blob[8 : 8 + head_len]
    for lie in (b'"shape":[5]', b'"shape":[2,3]', b'"shape":[-4]'):
        forged = header.replace(b'"shape":[4]', lie)
        forged = forged + b" " * (head_len - len(forged)) if len(forged) <= head_len else forged
        data = len(forged).to_bytes(8, "little") + forged + blob[8 + head_len :]
        with pytest.raises(WorkerProtocolError):
            wire.decode_tensors(data)


def test_other_tensors_fall_back_to_the_safetensors_writer() -> None:
    tensors = {"c": torch.tensor([1 + 2j, 3 - 1j], dtype=torch.complex64)}
    assert torch.equal(wire.decode_tensors(wire.encode_tensors(tensors))["c"], tensors["c"])


def test_a_frame_round_trips_and_a_truncated_one_is_refused() -> None:
    frame = wire.encode({"type": "probe", "id": "a/1"}, {"out": torch.arange(6.0).reshape(2, 3)})
    header, tensors = wire.decode_body(frame[8:])
    assert header == {"type": "probe", "id": "a/1"}
    assert torch.equal(tensors["out"], torch.arange(6.0).reshape(2, 3))
    with pytest.raises(WorkerProtocolError):
        wire.decode_body(frame[8:-4])


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_frames_split_anywhere_across_reads_come_out_whole(chunk: int) -> None:
    frames = [
        wire.encode({"type": "probe", "id": f"a/{i}"}, {"out": torch.full((i + 1,), float(i))})
        for i in range(5)
    ]
    stream = b"".join(frames)
    reader = wire.FrameReader(1 << 20)
    got = []
    for start in range(0, len(stream), chunk):
        got += reader.feed(stream[start : start + chunk])
    assert [h["id"] for h, _ in got] == [f"a/{i}" for i in range(5)]
    assert all(
        torch.equal(t["out"], torch.full((i + 1,), float(i))) for i, (_, t) in enumerate(got)
    )
    assert reader.pending == 0


def test_a_reader_refuses_more_than_its_cap() -> None:
    reader = wire.FrameReader(100)
    with pytest.raises(WorkerProtocolError):
        reader.feed(wire.encode({"type": "probe"}, {"out": torch.zeros(100)}))


@pytest.mark.parametrize("split", [None, 5, "after"])
def test_frames_before_a_violation_are_kept_however_the_bytes_arrive(split) -> None:
    """A worker that sends good frames and then garbage: the good frames count the same
    whether the garbage arrived in the same read or a later one."""
    good = wire.encode({"type": "hello", "layers": ["seccomp"]})
    stream = good + b"\xff" * 16
    cut = {None: len(stream), 5: 5, "after": len(good)}[split]
    reader = wire.FrameReader(1 << 20)
    kept = []
    with pytest.raises(WorkerProtocolError) as caught:
        for chunk in (stream[:cut], stream[cut:]):
            kept += reader.feed(chunk)
    kept += caught.value.frames
    assert [h for h, _ in kept] == [{"type": "hello", "layers": ["seccomp"]}]


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_an_oversized_frame_is_dropped_unread_whatever_the_read_split(chunk: int) -> None:
    """A frame over its own limit comes out as a header-only 'output too large' frame; the
    frames around it are whole; the reader never holds more than a read and a header; and a
    frame larger than the run's whole cap is still only dropped, once its header says so."""
    big = wire.encode({"type": "probe", "id": "a/0", "status": "ok"}, {"out": torch.zeros(300_000)})
    small = wire.encode({"type": "probe", "id": "a/1", "status": "ok"}, {"out": torch.ones(2)})
    end = wire.encode({"type": "task_end", "task": "a"})
    stream = small + big + small + end
    reader = wire.FrameReader(1_000_000, lambda h: 10_000 if h.get("type") == "probe" else None)
    got, peak = [], 0
    for i in range(0, len(stream), chunk):
        got += reader.feed(stream[i : i + chunk])
        peak = max(peak, reader.pending)
    assert [(h.get("id"), h.get("status")) for h, _ in got] == [
        ("a/1", "ok"),
        ("a/0", "output too large"),
        ("a/1", "ok"),
        (None, None),
    ]
    assert got[1][1] == {} and "over this check's limit of 10,000 bytes" in got[1][0]["message"]
    assert torch.equal(got[2][1]["out"], torch.ones(2))
    assert peak <= chunk + len(small) + 1024


def test_without_a_frame_limit_a_frame_over_the_run_cap_is_a_protocol_error() -> None:
    big = wire.encode({"type": "probe", "id": "a/0"}, {"out": torch.zeros(1000)})
    with pytest.raises(WorkerProtocolError, match="frame claims"):
        wire.FrameReader(1000).feed(big)


def test_a_view_kept_alive_elsewhere_does_not_break_the_reader() -> None:
    """Dask's sampling profiler can hold a frame (and with it a view of the reader's buffer)
    while the reader grows or trims that buffer: BufferError once ended a batch."""
    reader = wire.FrameReader(1 << 20)
    first = wire.encode({"type": "probe", "id": "a/0"}, {"out": torch.ones(3)})
    second = wire.encode({"type": "probe", "id": "a/1"}, {"out": torch.zeros(2)})
    reader.feed(first[:10])
    held = memoryview(reader._buffer)[:4]  # what a profiler's snapshot would keep alive
    got = reader.feed(first[10:] + second[:5])
    got += reader.feed(second[5:])
    assert [h["id"] for h, _ in got] == ["a/0", "a/1"]
    held.release()
