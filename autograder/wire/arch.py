"""Network architectures as data: a short list of whitelisted torch layers, validated.

Both sides describe a feed-forward network the same way: a list of layer configs (JSON, one
dict per layer, ``{"layer": "conv2d", "in_channels": 3, ...}``) and its tensors by
``state_dict`` key. The trusted side builds probe inputs from it (a spec ``Arg`` with
``module = [...]``) and rebuilds, from torch layers only, a network a worker exported (what a
student's ``compress`` returned): no student class, method or forward ever reaches the grader,
only these configs and plain tensors, validated here before anything is built.

A list of one layer stands for that layer itself (keys ``weight``, ``bias``); a longer list is an
``nn.Sequential`` (keys ``0.weight``, ``3.running_mean``). Pure data: no torch here, so the spec
can validate ``module`` arguments; ``wire/modules.py`` builds and exports the torch modules.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Bounds that keep a described network small enough to build and run on the trusted side.
MAX_LAYERS = 64
MAX_PARAMETERS = 4_000_000
_Channels = Annotated[int, Field(ge=1, le=2048)]
_Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class _Layer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def tensors(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """``state_dict`` entries of the torch layer: name -> (shape, dtype)."""
        return {}

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.model_dump(exclude={"layer"}).items())
        return f"{self.layer}({fields})"

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        """The output shape for one input of ``shape`` (no batch dimension) and the multiply-adds
        it costs; ``ValueError`` saying why the input does not fit. Default: shape kept, free."""
        return shape, 0


def _image(shape: tuple[int, ...], channels: int | None = None) -> None:
    """``ValueError`` unless ``shape`` is channels x height x width (with ``channels``)."""
    if len(shape) != 3:
        raise ValueError(f"needs channels x height x width, gets {shape}")
    if channels is not None and shape[0] != channels:
        raise ValueError(f"gets {shape[0]} channels")


def _window(shape: tuple[int, ...], kernel: int, stride: int, padding: int) -> tuple[int, ...]:
    """A convolution's or pooling's output height and width."""
    size = tuple((side + 2 * padding - kernel) // stride + 1 for side in shape[1:])
    if min(size) < 1:
        raise ValueError(f"gets a {shape[1]}x{shape[2]} map")
    return size


class Conv2d(_Layer):
    layer: Literal["conv2d"]
    in_channels: _Channels
    out_channels: _Channels
    kernel_size: int = Field(ge=1, le=11)
    stride: int = Field(default=1, ge=1, le=8)
    padding: int = Field(default=0, ge=0, le=10)
    bias: bool = True

    def tensors(self) -> dict[str, tuple[tuple[int, ...], str]]:
        k = self.kernel_size
        out = {"weight": ((self.out_channels, self.in_channels, k, k), "float32")}
        if self.bias:
            out["bias"] = ((self.out_channels,), "float32")
        return out

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        _image(shape, self.in_channels)
        out = (self.out_channels, *_window(shape, self.kernel_size, self.stride, self.padding))
        return out, math.prod(out) * self.in_channels * self.kernel_size**2


class BatchNorm2d(_Layer):
    """Affine, with running statistics (used in eval mode)."""

    layer: Literal["batchnorm2d"]
    num_features: _Channels
    eps: float = Field(default=1e-5, gt=0, le=1)

    def tensors(self) -> dict[str, tuple[tuple[int, ...], str]]:
        c = (self.num_features,)
        return {
            "weight": (c, "float32"),
            "bias": (c, "float32"),
            "running_mean": (c, "float32"),
            "running_var": (c, "float32"),
            "num_batches_tracked": ((), "int64"),
        }

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        _image(shape, self.num_features)
        return shape, 0


class ReLU(_Layer):
    layer: Literal["relu"]


class MaxPool2d(_Layer):
    layer: Literal["maxpool2d"]
    kernel_size: int = Field(ge=1, le=8)
    stride: int | None = Field(default=None, ge=1, le=8)

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        _image(shape)
        return (shape[0], *_window(shape, self.kernel_size, self.stride or self.kernel_size, 0)), 0


class AdaptiveAvgPool2d(_Layer):
    layer: Literal["adaptive_avgpool2d"]
    output_size: int = Field(ge=1, le=64)

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        _image(shape)
        return (shape[0], self.output_size, self.output_size), 0


class Flatten(_Layer):
    """``nn.Flatten()``: every dimension after the batch's."""

    layer: Literal["flatten"]

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        return (math.prod(shape),), 0


class Linear(_Layer):
    layer: Literal["linear"]
    in_features: int = Field(ge=1, le=65536)
    out_features: int = Field(ge=1, le=65536)
    bias: bool = True

    def tensors(self) -> dict[str, tuple[tuple[int, ...], str]]:
        out = {"weight": ((self.out_features, self.in_features), "float32")}
        if self.bias:
            out["bias"] = ((self.out_features,), "float32")
        return out

    def shape_after(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
        if shape[-1] != self.in_features:
            raise ValueError(f"gets {shape[-1]} features")
        out = (*shape[:-1], self.out_features)
        return out, math.prod(out) * self.in_features


class Identity(_Layer):
    layer: Literal["identity"]


class FakeQuantize(_Layer):
    """Per-tensor affine fake quantization of the activations passing through, with torch's
    ``fake_quantize_per_tensor_affine`` semantics."""

    layer: Literal["fake_quantize"]
    scale: float = Field(gt=0)
    zero_point: _Int32
    qmin: _Int32 = 0
    qmax: _Int32 = 255

    @model_validator(mode="after")
    def _range(self) -> FakeQuantize:
        if not math.isfinite(self.scale):
            raise ValueError("scale must be finite")
        if not self.qmin < self.qmax:
            raise ValueError(f"qmin {self.qmin} must be below qmax {self.qmax}")
        if not self.qmin <= self.zero_point <= self.qmax:
            raise ValueError(f"zero_point {self.zero_point} is outside [{self.qmin}, {self.qmax}]")
        return self


Layer = Annotated[
    Conv2d
    | BatchNorm2d
    | ReLU
    | MaxPool2d
    | AdaptiveAvgPool2d
    | Flatten
    | Linear
    | Identity
    | FakeQuantize,
    Field(discriminator="layer"),
]


class Architecture(BaseModel):
    """A whole network: its layers in forward order (one layer: that layer alone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layers: list[Layer] = Field(min_length=1, max_length=MAX_LAYERS)

    @model_validator(mode="after")
    def _small(self) -> Architecture:
        total = sum(math.prod(shape) for shape, _ in self.state_shapes().values())
        if total > MAX_PARAMETERS:
            raise ValueError(f"{total} values in its tensors, more than {MAX_PARAMETERS}")
        return self

    @property
    def single(self) -> bool:
        return len(self.layers) == 1

    def state_shapes(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Every ``state_dict`` entry of the built module: key -> (shape, dtype name)."""
        if self.single:
            return self.layers[0].tensors()
        return {
            f"{i}.{name}": spec
            for i, layer in enumerate(self.layers)
            for name, spec in layer.tensors().items()
        }

    def weight_keys(self) -> list[str]:
        """The keys of every Conv2d and Linear weight (what pruning counts)."""
        prefix = "" if self.single else "{i}."
        return [
            prefix.format(i=i) + "weight"
            for i, layer in enumerate(self.layers)
            if isinstance(layer, Conv2d | Linear)
        ]

    def describe(self) -> str:
        return " -> ".join(layer.describe() for layer in self.layers)

    def cost(self, shape: tuple[int, ...]) -> Cost:
        """What one input of ``shape`` (without the batch dimension) costs this network: the
        multiply-adds of its convolutions and linear layers, and its largest activation, found
        by shape arithmetic alone (nothing is built). ``ValueError`` naming the first layer
        whose input does not fit (a channel or feature count, a map smaller than a kernel)."""
        shape, macs, largest = tuple(shape), 0, math.prod(shape)
        for i, layer in enumerate(self.layers):
            try:
                shape, layer_macs = layer.shape_after(shape)
            except ValueError as e:
                raise ValueError(f"layer {i} ({layer.describe()}) {e}") from None
            macs += layer_macs
            largest = max(largest, math.prod(shape))
        return Cost(macs=macs, largest_activation=largest, output=shape)


class Cost(BaseModel):
    """Per input: multiply-adds, the largest activation (values) and the output's shape."""

    model_config = ConfigDict(frozen=True)

    macs: int
    largest_activation: int
    output: tuple[int, ...]


def architecture(layers: object) -> Architecture:
    """``layers`` (JSON from a spec or a worker) validated; pydantic's ``ValidationError``
    otherwise."""
    return Architecture.model_validate({"layers": layers})


def readable_architecture(layers: object) -> Architecture:
    """``architecture(layers)``, or a ``ValueError`` a student can read naming the first
    problem and where: ``layer 2.conv2d: Input should be less than or equal to 10``."""
    try:
        return architecture(layers)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:3])
        raise ValueError(f"layer {where}: {first['msg']}" if where else first["msg"]) from None
