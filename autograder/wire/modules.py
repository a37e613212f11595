"""Torch modules from architecture descriptions and back (``wire/arch.py``), and the one rule
that fills a module's tensors from a seed.

``build`` makes torch's own layers from a validated ``Architecture`` and its tensors: the
trusted side uses it to rebuild what a worker exported, the worker to build the grader's
networks that student code receives. ``export`` runs in the worker: it reads a network a
student returned, layer by layer, accepting only the whitelisted torch classes (exactly those,
never a subclass whose forward could differ) and the submission's own fake-quantization module
named by the spec; it raises ``ExportError`` with a message the student can read otherwise.

``fill_`` is how a spec's ``fill_state`` gives every parameter and buffer of a student's module
and of the reference's the same values: each tensor from a generator seeded by the check's seed
and its own ``state_dict`` key, so a renamed or missing tensor changes nothing else.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from autograder.wire import arch


class ExportError(Exception):
    """A returned network that cannot be described (an unsupported layer or option)."""


class TorchFakeQuantize(nn.Module):
    """Fake quantization with torch's own op: what the trusted side runs for a described
    ``fake_quantize`` layer."""

    def __init__(self, scale: float, zero_point: int, qmin: int, qmax: int) -> None:
        super().__init__()
        self.scale, self.zero_point, self.qmin, self.qmax = scale, zero_point, qmin, qmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fake_quantize_per_tensor_affine(
            x, self.scale, self.zero_point, self.qmin, self.qmax
        )


def torch_layer(spec: Any) -> nn.Module:
    """A fresh torch layer for one validated layer config (torch's default init)."""
    return LAYERS[spec.layer].build(spec)


def build(description: arch.Architecture, state: dict[str, torch.Tensor]) -> nn.Module:
    """Torch layers for ``description`` holding copies of ``state`` (every key of
    ``description.state_shapes()``, exactly those shapes and dtypes), in eval mode.

    Raises ``ValueError`` naming the first tensor that is missing, extra or misshapen."""
    want = description.state_shapes()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        which = f"no {missing[0]!r}" if missing else f"an unexpected {extra[0]!r}"
        raise ValueError(f"the network's tensors do not match its layers: {which}")
    for key, (shape, dtype) in want.items():
        got = state[key]
        if tuple(got.shape) != shape or str(got.dtype).removeprefix("torch.") != dtype:
            raise ValueError(
                f"{key} is {str(got.dtype).removeprefix('torch.')} {tuple(got.shape)}, "
                f"expected {dtype} {shape}"
            )
    layers = [torch_layer(spec) for spec in description.layers]
    module = layers[0] if description.single else nn.Sequential(*layers)
    module.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)
    return module.eval()


def _number(value: Any, what: str, kind: type) -> Any:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.detach().reshape(()).item()
    if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if kind is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ExportError(f"{what} is {type(value).__name__}, expected a Python {kind.__name__}")


def _square(value: Any, what: str) -> int:
    values = value if isinstance(value, tuple) else (value,)
    if not values or not all(isinstance(v, int) for v in values) or len(set(values)) != 1:
        raise ExportError(f"{what} {value!r} is not supported (one int, the same on both sides)")
    return values[0]


def _conv2d(m: Any) -> dict[str, Any]:
    if m.groups != 1 or _square(m.dilation, "dilation") != 1 or m.padding_mode != "zeros":
        raise ExportError("a Conv2d with groups, dilation or a padding mode is not supported")
    return {
        "in_channels": m.in_channels,
        "out_channels": m.out_channels,
        "kernel_size": _square(m.kernel_size, "Conv2d kernel_size"),
        "stride": _square(m.stride, "Conv2d stride"),
        "padding": _square(m.padding, "Conv2d padding"),
        "bias": m.bias is not None,
    }


def _batchnorm2d(m: Any) -> dict[str, Any]:
    if not (m.affine and m.track_running_stats):
        raise ExportError("a BatchNorm2d needs affine=True and track_running_stats=True")
    return {"num_features": m.num_features, "eps": float(m.eps)}


def _maxpool2d(m: Any) -> dict[str, Any]:
    if _square(m.padding, "MaxPool2d padding") != 0 or _square(m.dilation, "dilation") != 1:
        raise ExportError("a MaxPool2d with padding or dilation is not supported")
    if m.ceil_mode:
        raise ExportError("a MaxPool2d with ceil_mode=True is not supported")
    return {
        "kernel_size": _square(m.kernel_size, "MaxPool2d kernel_size"),
        "stride": _square(m.stride, "MaxPool2d stride"),
    }


def _flatten_options(m: Any) -> dict[str, Any]:
    if (m.start_dim, m.end_dim) != (1, -1):
        raise ExportError("only nn.Flatten() (start_dim=1, end_dim=-1) is supported")
    return {}


def _fake_quantize(m: Any) -> dict[str, Any]:
    name = type(m).__name__
    return {
        "scale": _number(getattr(m, "scale", None), f"{name}.scale", float),
        "zero_point": _number(getattr(m, "zero_point", None), f"{name}.zero_point", int),
        "qmin": _number(getattr(m, "qmin", None), f"{name}.qmin", int),
        "qmax": _number(getattr(m, "qmax", None), f"{name}.qmax", int),
    }


@dataclass(frozen=True)
class LayerKind:
    """One whitelisted layer of ``arch.Layer``: the torch class a worker may return for it
    (exactly that class), how the worker reads that module's options (``ExportError`` for one
    it cannot describe), and how the trusted side builds it from a validated config."""

    torch_class: type[nn.Module]
    options: Callable[[Any], dict[str, Any]]
    build: Callable[[Any], nn.Module]


def _no_options(m: Any) -> dict[str, Any]:
    return {}


# Every ``layer`` name of ``arch.Layer``, and nothing else (tests/test_registries.py holds it).
# ``fake_quantize`` is exported from the submission's own class that the spec names, whose
# forward never runs on the trusted side: it is rebuilt as ``TorchFakeQuantize``.
LAYERS: dict[str, LayerKind] = {
    "conv2d": LayerKind(
        nn.Conv2d,
        _conv2d,
        lambda c: nn.Conv2d(
            c.in_channels,
            c.out_channels,
            c.kernel_size,
            stride=c.stride,
            padding=c.padding,
            bias=c.bias,
        ),
    ),
    "batchnorm2d": LayerKind(
        nn.BatchNorm2d, _batchnorm2d, lambda c: nn.BatchNorm2d(c.num_features, eps=c.eps)
    ),
    "relu": LayerKind(nn.ReLU, _no_options, lambda c: nn.ReLU()),
    "maxpool2d": LayerKind(
        nn.MaxPool2d, _maxpool2d, lambda c: nn.MaxPool2d(c.kernel_size, stride=c.stride)
    ),
    "adaptive_avgpool2d": LayerKind(
        nn.AdaptiveAvgPool2d,
        lambda m: {"output_size": _square(m.output_size, "AdaptiveAvgPool2d output_size")},
        lambda c: nn.AdaptiveAvgPool2d(c.output_size),
    ),
    "flatten": LayerKind(nn.Flatten, _flatten_options, lambda c: nn.Flatten()),
    "linear": LayerKind(
        nn.Linear,
        lambda m: {
            "in_features": m.in_features,
            "out_features": m.out_features,
            "bias": m.bias is not None,
        },
        lambda c: nn.Linear(c.in_features, c.out_features, bias=c.bias),
    ),
    "identity": LayerKind(nn.Identity, _no_options, lambda c: nn.Identity()),
    "fake_quantize": LayerKind(
        TorchFakeQuantize,
        _fake_quantize,
        lambda c: TorchFakeQuantize(c.scale, c.zero_point, c.qmin, c.qmax),
    ),
}


def _describe(m: nn.Module, fake_quant: type | None) -> dict[str, Any]:
    """``m``'s layer config; only the exact whitelisted classes (and ``fake_quant``) pass."""
    kind = type(m)
    classes = {k.torch_class: name for name, k in LAYERS.items() if name != "fake_quantize"}
    if fake_quant is not None:
        classes.setdefault(fake_quant, "fake_quantize")  # never in place of a torch layer
    name = classes.get(kind)
    if name is not None:
        return {"layer": name, **LAYERS[name].options(m)}
    allowed = ", ".join(c.__name__ for c in classes)
    raise ExportError(
        f"a {kind.__name__} layer is not supported: use nn.Sequential of {allowed} "
        "(exactly these classes)"
    )


def _flatten(module: Any, out: list[nn.Module]) -> None:
    if type(module) is nn.Sequential:
        for child in module._modules.values():
            if child is not None:
                _flatten(child, out)
        return
    if not isinstance(module, nn.Module):
        raise ExportError(f"got {type(module).__name__}, expected a torch.nn.Module")
    out.append(module)


def export(
    module: Any, fake_quant: type | None = None
) -> tuple[list[dict[str, Any]], dict[str, torch.Tensor]]:
    """``module`` (an ``nn.Sequential``, nested ones flattened, or one layer) as layer configs
    (a valid ``arch.Architecture``) and plain-tensor copies of its ``state_dict`` entries,
    keyed as ``arch`` keys them; ``ExportError`` saying what cannot be described."""
    layers: list[nn.Module] = []
    _flatten(module, layers)
    if not layers:
        raise ExportError("the network has no layers")
    if len(layers) > arch.MAX_LAYERS:
        raise ExportError(f"the network has {len(layers)} layers, more than {arch.MAX_LAYERS}")
    configs = [_describe(m, fake_quant) for m in layers]
    try:
        description = arch.readable_architecture(configs)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    tensors: dict[str, torch.Tensor] = {}
    for i, (m, layer) in enumerate(zip(layers, description.layers, strict=True)):
        prefix = "" if len(layers) == 1 else f"{i}."
        for name in layer.tensors():
            value = getattr(m, name, None)
            if not isinstance(value, torch.Tensor):
                raise ExportError(f"{type(m).__name__} has no tensor {name!r}")
            tensors[prefix + name] = value.detach().as_subclass(torch.Tensor).clone()
    return configs, tensors


def key_seed(seed: int, key: str) -> int:
    """The seed of one named tensor: from the check's seed and the tensor's key only."""
    digest = hashlib.sha256(f"{seed}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def fill_value(shape: tuple[int, ...], dtype: torch.dtype, seed: int) -> torch.Tensor:
    """The values ``fill_`` gives one tensor (float64 draws, cast): a weight of two or more
    dimensions U(-1, 1) / sqrt(fan_in), fan_in = numel / shape[0]; anything smaller U(0.5, 1.5),
    positive so it is a valid scale or variance."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(shape, generator=g, dtype=torch.float64)
    if len(shape) >= 2:
        fan_in = max(1, int(torch.tensor(shape[1:]).prod()))
        values = (2 * u - 1) / fan_in**0.5
    else:
        values = 0.5 + u
    return values.to(dtype)


@torch.no_grad()
def fill_(state: Mapping[str, Any], seed: int) -> list[list[Any]]:
    """Fill, in place, every floating tensor of ``state`` (a module's
    ``state_dict(keep_vars=True)``: its parameters and buffers themselves) by key (see
    ``fill_value``); integer buffers (``num_batches_tracked``) keep their values. Returns every
    tensor's ``[key, shape]``, in sorted key order."""
    keys = []
    for key in sorted(str(k) for k in state):
        tensor = state[key]
        if isinstance(tensor, torch.Tensor):
            if tensor.is_floating_point():
                tensor.copy_(fill_value(tuple(tensor.shape), tensor.dtype, key_seed(seed, key)))
            keys.append([key, list(tensor.shape)])
    return keys
