"""What every training recipe needs: the student's components by role, the training split, the
CPU-time budget, the secret-seeded training order, and the trained state read by name."""

from __future__ import annotations

import time
from typing import Any

import torch

from autograder.untrusted.failures import BudgetExceeded, ProbeError


def component(module: Any, header: dict[str, Any], role: str) -> Any:
    """The submission's symbol that plays ``role`` in the recipe (spec ``components``)."""
    name = header.get("components", {}).get(role)
    if name is None:
        raise ProbeError("grader error", f"benchmark spec names no component for {role!r}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise ProbeError("missing symbol", f"{name} is not defined in the submission") from None


def train_split(
    header: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The dataset's training tensors by name (``images``, ``labels``, ...)."""
    prefix = f"data|{header['dataset']}|"
    found = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    if not found:
        raise ProbeError("grader error", f"the training data of {header['dataset']} did not arrive")
    return found


class Budget:
    """The training budget in CPU seconds of this process (all its threads): a machine busy
    with other work slows the wall clock, not this count."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.seconds = float(header["budget_seconds"])
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    @property
    def cpu(self) -> float:
        return time.process_time() - self._cpu

    @property
    def wall(self) -> float:
        return time.perf_counter() - self._wall

    def check(self) -> None:
        if self.cpu > self.seconds:
            raise BudgetExceeded(
                f"training stopped after {self.cpu:.1f} s of CPU time: over the "
                f"{self.seconds:g} s budget"
            )

    def facts(self) -> dict[str, float]:
        return {"train_seconds": round(self.cpu, 3), "train_wall_seconds": round(self.wall, 3)}


def order_generator(header: dict[str, Any]) -> torch.Generator:
    """The generator of the training order: seeded from the course secret (``order_seed``)."""
    return torch.Generator().manual_seed(int(header["order_seed"]))


def named_tensor(obj: Any, name: str) -> torch.Tensor | None:
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, torch.Tensor) else None


def state_of(net: Any, names: list[str], what: str) -> dict[str, torch.Tensor]:
    """``state.<name>`` plain-tensor copies of the trained network's tensors, read by role."""
    state = {}
    for name in names:
        value = named_tensor(net, name)
        if value is None:
            raise ProbeError(
                "error",
                f"the trained {what} has no tensor {name!r} (see the state_dict keys the "
                "assignment lists)",
            )
        state[f"state.{name}"] = value.detach().as_subclass(torch.Tensor).clone()
    return state


def state_dict_of(net: Any, what: str) -> dict[str, torch.Tensor]:
    """``state.<key>`` plain-tensor copies of every ``state_dict`` entry of the trained network
    (where the template lists the keys: the trusted side holds them against the reference's)."""
    entries = net.state_dict()
    if not isinstance(entries, dict):
        raise ProbeError("error", f"the trained {what}'s state_dict() is not a dict")
    state = {}
    for key, value in list(entries.items())[:4096]:
        if not isinstance(value, torch.Tensor):
            raise ProbeError(
                "error", f"the trained {what}'s state_dict entry {key!r} is not a tensor"
            )
        state[f"state.{key}"] = value.detach().as_subclass(torch.Tensor).clone()
    return state


def fixture(
    header: dict[str, Any], tensors: dict[str, torch.Tensor], name: str
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The grader's fixture ``name`` (``trusted/fixtures``): its tensors by key and its info."""
    info = (header.get("fixtures") or {}).get(name)
    if info is None:
        raise ProbeError("grader error", f"the benchmark spec names no fixture {name!r}")
    prefix = f"fixture|{name}|"
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}, info


def curve(values: list[float] | None) -> torch.Tensor:
    return torch.tensor([float(v) for v in (values or [])][:10000], dtype=torch.float64)
