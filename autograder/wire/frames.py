"""The boundary format between the trusted grader and untrusted workers.

A frame is ``u64 total length | u32 header length | JSON header | safetensors blob``. The JSON
header is plain data (dicts, strings, numbers); tensors travel only as safetensors, which has no
code path on load, and come out as plain ``torch.Tensor`` objects. Nothing here unpickles.

The reader on the trusted side caps every length before allocating, so a worker cannot make the
grader read or allocate more than it allows.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from safetensors import deserialize
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from autograder.errors import WorkerProtocolError

_PREFIX = struct.Struct("<QI")
MAX_HEADER = 1 << 20


# The dtypes written directly; anything else goes through safetensors' own writer.
_DTYPE_NAMES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def tensor_parts(tensors: dict[str, torch.Tensor] | None) -> list[bytes | memoryview]:
    """Named tensors as one safetensors blob, in pieces to be joined once ([] for none).

    Common dense CPU tensors are laid out here (8-byte header length, JSON header padded to 8
    bytes, little-endian data in order), their data as views of the tensors' own memory:
    safetensors' Python writer costs ~35 us per tensor, a worker writes a few hundred per
    submission (about 5 MB for Homework 1), and every copy of that is time on the worker's
    clock. Whatever this reads back, it reads with safetensors' own parser, which checks
    every offset.
    """
    if not tensors:
        return []
    plain = {k: v.detach() for k, v in tensors.items()}
    if sys.byteorder != "little" or not all(
        type(t) is torch.Tensor
        and t.dtype in _DTYPE_NAMES
        and t.layout == torch.strided
        and t.device.type == "cpu"
        for t in plain.values()
    ):
        return [st_save({k: v.contiguous() for k, v in plain.items()})]
    header: dict[str, Any] = {}
    parts: list[bytes | memoryview] = []
    offset = 0
    for name, t in plain.items():
        # the array holds the contiguous tensor alive until the pieces are joined
        data = (
            memoryview(t.contiguous().reshape(-1).view(torch.uint8).numpy()) if t.numel() else b""
        )
        header[name] = {
            "dtype": _DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
        parts.append(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    return [struct.pack("<Q", len(head)), head, *parts]


def encode_tensors(tensors: dict[str, torch.Tensor] | None) -> bytes:
    """Named tensors as one safetensors blob (b"" for none)."""
    return b"".join(tensor_parts(tensors))


def frame_parts(
    header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None
) -> list[bytes | memoryview]:
    """One frame from a JSON-able header and named tensors, in pieces to be joined once."""
    head = json.dumps(header, separators=(",", ":")).encode()
    blob = tensor_parts(tensors)
    size = 4 + len(head) + sum(len(p) for p in blob)
    return [_PREFIX.pack(size, len(head)), head, *blob]


def encode(header: dict[str, Any], tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    """One frame from a JSON-able header and named tensors."""
    return b"".join(frame_parts(header, tensors))


_DTYPES = {name: dtype for dtype, name in _DTYPE_NAMES.items()}


def decode_tensors(blob: bytes) -> dict[str, torch.Tensor]:
    """Plain tensors from a safetensors blob. Raises WorkerProtocolError if it is not one.

    safetensors' own parser checks the header and every offset and hands each tensor's bytes
    over in a buffer of its own; a tensor is made over that buffer (no further copy: a
    worker sends a few MB per submission). Every tensor is a base-class ``torch.Tensor``
    that owns its memory: nothing that arrives may carry behaviour.
    """
    if not blob:
        return {}
    try:
        flat = deserialize(bytes(blob))
    except Exception as exc:  # safetensors raises its own error types
        raise WorkerProtocolError(f"frame tensors are not valid safetensors: {exc}") from None
    out: dict[str, torch.Tensor] = {}
    for name, info in flat:
        dtype, shape, data = _DTYPES.get(info["dtype"]), info["shape"], info["data"]
        if dtype is None or sys.byteorder != "little":
            return _decode_generic(blob)
        try:
            size = torch.Size(shape)
            if len(data) != size.numel() * dtype.itemsize:
                raise ValueError("byte count does not match the shape")
            if not data:
                out[str(name)] = torch.empty(size, dtype=dtype)
                continue
            # a bytearray is writable and referenced by this tensor alone (older
            # safetensors versions hand over bytes: copied once)
            buffer = data if isinstance(data, bytearray) else bytearray(data)
            out[str(name)] = torch.frombuffer(buffer, dtype=dtype).reshape(size)
        except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
            raise WorkerProtocolError(
                f"frame tensor {str(name)[:100]!r} is malformed: {exc}"
            ) from None
    return out


def _decode_generic(blob: bytes) -> dict[str, torch.Tensor]:
    """Any dtype safetensors knows (complex, float8), through its own torch loader."""
    loaded = st_load(bytes(blob))
    # Re-wrap as base-class tensors that own their memory.
    return {str(k): torch.Tensor(v).detach().clone() for k, v in loaded.items()}


@dataclass(frozen=True)
class Bundle:
    """Inputs every run of a grader needs (the plan's tensors, the benchmark's images), encoded
    once and preloaded into each zygote, so a run's request carries only its key."""

    key: str
    blob: bytes

    @classmethod
    def of(cls, tensors: dict[str, torch.Tensor]) -> Bundle:
        blob = encode_tensors(tensors)
        return cls(hashlib.sha256(blob).hexdigest()[:24], blob)


def decode_body(body: bytes | memoryview) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Split a frame body (without the u64 length) into header and plain tensors."""
    if len(body) < 4:
        raise WorkerProtocolError("frame shorter than its header length field")
    (head_len,) = struct.unpack_from("<I", body)
    if head_len > MAX_HEADER or 4 + head_len > len(body):
        raise WorkerProtocolError(f"frame header length {head_len} is out of bounds")
    try:
        header = json.loads(bytes(body[4 : 4 + head_len]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkerProtocolError(f"frame header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WorkerProtocolError("frame header is not a JSON object")
    return header, decode_tensors(body[4 + head_len :])


class FrameReader:
    """Incremental frame parser with a cap on the total bytes a worker may send.

    ``frame_limit`` (optional) maps a frame's header to the most bytes its body may hold (JSON
    header plus tensors), or None for no limit of its own. A frame over its limit is never
    buffered: its bytes are discarded as they arrive, and it comes out as a header-only frame
    with ``status`` ``"output too large"``, so one oversized result costs only its probe and
    leaves the reader's memory flat.
    """

    def __init__(
        self, max_total: int, frame_limit: Callable[[dict[str, Any]], int | None] | None = None
    ) -> None:
        self._buffer = bytearray()
        self._max_total = max_total
        self._received = 0
        self._frame_limit = frame_limit
        self._skip = 0  # body bytes of an oversized frame still to discard

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], dict[str, torch.Tensor]]]:
        """Add bytes; return the frames completed by them.

        Raises ``WorkerProtocolError`` on any protocol violation; its ``frames`` are the whole
        frames that came before the violation, so what is kept does not depend on how the
        bytes were split across reads.
        """
        frames: list[tuple[dict[str, Any], dict[str, torch.Tensor]]] = []
        offset = 0
        try:
            if self._skip:
                dropped = min(self._skip, len(data))
                self._skip -= dropped
                data = data[dropped:]
            # only what is kept counts: an oversized frame's bytes are read and dropped
            self._received += len(data)
            try:
                self._buffer += data
            except BufferError:
                # a view of the buffer is still alive somewhere (a sampling profiler's frame
                # snapshot holds one): grow a copy instead of the exported buffer
                self._buffer = self._buffer + data
            with memoryview(self._buffer) as view:
                while len(view) - offset >= 8:
                    (length,) = struct.unpack_from("<Q", view, offset)
                    if length < 4:
                        raise WorkerProtocolError(f"frame claims {length} bytes")
                    oversized = self._oversized(view, offset, length)
                    if oversized is None and length > self._max_total:
                        if self._frame_limit is not None and len(view) - offset < 12 + MAX_HEADER:
                            if not self._header_complete(view, offset):
                                break  # its limit decides once its header is here
                        raise WorkerProtocolError(f"frame claims {length} bytes")
                    if oversized is not None:
                        frames.append((oversized, {}))
                        available = len(view) - offset - 8
                        self._received -= 8 + min(available, length)
                        if available >= length:
                            offset += 8 + length
                            continue
                        self._skip = length - available
                        offset = len(view)
                        break
                    if len(view) - offset < 8 + length:
                        break
                    frames.append(decode_body(view[offset + 8 : offset + 8 + length]))
                    offset += 8 + length
            if self._received > self._max_total:
                raise WorkerProtocolError(
                    f"worker sent more than {self._max_total} bytes of results"
                )
        except WorkerProtocolError as exc:
            exc.frames = frames
            raise
        if offset:
            try:
                del self._buffer[:offset]  # once per read, not once per frame
            except BufferError:  # still exported (see above): keep the rest in a new buffer
                self._buffer = self._buffer[offset:]
        return frames

    @staticmethod
    def _header_complete(view: memoryview, offset: int) -> bool:
        if len(view) - offset < 12:
            return False
        (head_len,) = struct.unpack_from("<I", view, offset + 8)
        return len(view) - offset >= 12 + min(head_len, MAX_HEADER)

    def _oversized(self, view: memoryview, offset: int, length: int) -> dict[str, Any] | None:
        """The stand-in header when the frame at ``offset`` is over its limit, else None
        (also None while its header has not fully arrived)."""
        if self._frame_limit is None or len(view) - offset < 12:
            return None
        (head_len,) = struct.unpack_from("<I", view, offset + 8)
        if head_len > MAX_HEADER or 4 + head_len > length:
            raise WorkerProtocolError(f"frame header length {head_len} is out of bounds")
        if len(view) - offset < 12 + head_len:
            return None
        try:
            header = json.loads(bytes(view[offset + 12 : offset + 12 + head_len]))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WorkerProtocolError(f"frame header is not JSON: {exc}") from None
        if not isinstance(header, dict):
            raise WorkerProtocolError("frame header is not a JSON object")
        limit = self._frame_limit(header)
        if limit is None or length - 4 <= limit:
            return None
        return {
            "type": header.get("type"),
            "id": header.get("id"),
            "status": "output too large",
            "message": (
                f"returned {length - 4:,} bytes of results, over this check's limit of "
                f"{limit:,} bytes (a few times what the reference solution returns)"
            ),
        }

    @property
    def pending(self) -> int:
        return len(self._buffer)
