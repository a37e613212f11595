"""Probe runners: call the submitted module's symbols and collect raw outputs (untrusted side).

One function per probe kind. Each takes the imported module, the probe's JSON header and its
input tensors, and returns named output tensors plus a small JSON dict of facts. Nothing here
scores: the trusted side compares these outputs with the reference's. The same code runs the
reference solution, so both go through identical calls.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import torch

from autograder.untrusted.failures import ProbeError
from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes import run_benchmark
from autograder.wire import arch, modules, steps, values


def _literal(value: Any) -> Any:
    # TOML has no tuples; torch APIs such as betas=(0.9, 0.999) expect them
    if isinstance(value, list):
        return tuple(_literal(v) for v in value)
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value


def _materialise(
    ref: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    leaves: dict[str, torch.Tensor],
    name: str,
    grad: bool,
) -> Any:
    if "v" in ref:
        return copy.deepcopy(ref["v"]) if ref.get("lists") else _literal(ref["v"])
    if "fn" in ref:
        # a callable of the grader's (a decoder's step model), built from the probe's tensors
        params = {
            k: _materialise(r, tensors, {}, f"{name}.{k}", False) for k, r in ref["params"].items()
        }
        return steps.build(ref["fn"], params, ref.get("options", {}))
    if "list" in ref:
        return [
            _materialise(r, tensors, leaves, f"{name}.{i}", grad) for i, r in enumerate(ref["list"])
        ]
    if "module" in ref:
        # the grader's own network: torch layers holding the probe's tensors, in eval mode
        state = {key: tensors[r["t"]] for key, r in ref["state"].items()}
        return modules.build(arch.architecture(ref["module"]), state)
    value = tensors[ref["t"]].clone()
    if "with_grad" in ref:
        value.requires_grad_(True)
        value.grad = tensors[ref["with_grad"]].clone()
        leaves[f"with_grad:{name}"] = value
        return value
    if grad and ref.get("grad", True) and value.is_floating_point():
        value.requires_grad_(True)
        leaves[name] = value
    return value


def _symbol(module: Any, name: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        raise ProbeError("missing symbol", f"{name} is not defined in the submission") from None


def _tensor_out(value: Any, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ProbeError(
            "error", f"{what} returned {type(value).__name__}, expected a torch.Tensor"
        )
    # Whatever subclass the student returned, only its plain data crosses the boundary.
    return value.detach().as_subclass(torch.Tensor).clone()


def _value_outputs(value: Any, what: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Any returned value (``returns = "value"``): typed JSON in the facts, tensors beside it."""
    try:
        tree, tensors = values.encode(value)
    except ValueError as exc:
        raise ProbeError("error", f"{what} returned {exc}") from None
    return tensors, {"value": tree}


def _outputs(value: Any, what: str) -> dict[str, torch.Tensor]:
    if isinstance(value, (tuple, list)):
        return {f"out.{i}": _tensor_out(v, what) for i, v in enumerate(value)}
    return {"out": _tensor_out(value, what)}


def _named_tensor(module: Any, name: str) -> torch.Tensor | None:
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, torch.Tensor) else None


def _build_module(
    sym: Any,
    header: dict[str, Any],
    state: dict[str, torch.Tensor],
    guard: Guard,
    facts: dict[str, Any] | None = None,
) -> Any:
    name = header["symbol"]
    if not isinstance(sym, type) or not issubclass(sym, torch.nn.Module):
        raise ProbeError("error", f"{name} must be a torch.nn.Module subclass")
    with guard:
        module = sym(**_literal(header.get("init", {})))
    if header.get("fill_state"):
        with guard:
            entries = module.state_dict(keep_vars=True)
        keys = modules.fill_(entries, int(header["seed"]))
        if facts is not None:
            # the trusted side holds these against the reference's (the contract's keys)
            facts["state_keys"] = keys[:2000]
    for key, value in state.items():
        target = _named_tensor(module, key)
        if target is None:
            raise ProbeError("error", f"{name} has no parameter or buffer named {key!r}")
        if tuple(target.shape) != tuple(value.shape):
            raise ProbeError(
                "error",
                f"{name}.{key} has shape {tuple(target.shape)}, expected {tuple(value.shape)}",
            )
        with torch.no_grad():
            target.copy_(value.detach())
    module.train(header.get("mode", "train") == "train")
    return module


def _invoke(
    module: Any,
    header: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    guard: Guard,
    grad: bool,
    facts: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, torch.Tensor], Any]:
    """Call the symbol as the header says; return (output, leaf inputs by name, built module).

    ``facts`` receives what building a module reports (its state_dict keys, ``fill_state``)."""
    sym = _symbol(module, header["symbol"])
    leaves: dict[str, torch.Tensor] = {}
    args = [_materialise(r, tensors, leaves, f"arg{i}", grad) for i, r in enumerate(header["args"])]
    if grad:
        # a network of the grader's passed as an argument (a critic): its parameters are
        # leaves too, so a result that never reaches them (a detached penalty) shows
        for i, (ref, arg) in enumerate(zip(header["args"], args, strict=True)):
            if "module" in ref and isinstance(arg, torch.nn.Module):
                for key, param in arg.named_parameters():
                    if param.requires_grad:
                        leaves[f"arg{i}.{key}"] = param
    kwargs = _literal(header.get("kwargs", {}))
    call = header.get("call", "function")
    built = None
    if call == "module":
        state = {
            k: _materialise(r, tensors, {}, k, False) for k, r in header.get("state", {}).items()
        }
        built = _build_module(sym, header, state, guard, facts)
        if grad:
            # by name, whatever the module registered them as: a missing nn.Parameter is
            # module_state's business, not backward's
            names = list(state)
            if header.get("fill_state"):
                names += [k for k, _ in (facts or {}).get("state_keys", []) if k not in state]
            for key in names:
                tensor = _named_tensor(built, key)
                if tensor is not None and tensor.requires_grad:
                    leaves[f"state.{key}"] = tensor
        with guard:
            out = built(*args, **kwargs)
    elif call == "autograd_function":
        if not (isinstance(sym, type) and issubclass(sym, torch.autograd.Function)):
            raise ProbeError("error", f"{header['symbol']} must subclass torch.autograd.Function")
        with guard:
            out = sym.apply(*args)
    else:
        if not callable(sym):
            raise ProbeError("error", f"{header['symbol']} is not callable")
        with guard:
            out = sym(*args, **kwargs)
    return out, leaves, (built, args)


def run_forward(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(header["seed"])
    facts: dict[str, Any] = {}
    out, leaves, (_, args) = _invoke(module, header, tensors, guard, grad=False, facts=facts)
    if args and isinstance(args[0], torch.Tensor):
        facts["returns_input"] = out is args[0]
    if header.get("apply"):
        out = _apply_returned(out, header, tensors, guard)
    observe = header.get("observe") or []
    # a call that works in place (global pruning) may return None: its arguments are the result
    if header.get("returns") == "value":
        result, value = _value_outputs(out, header["symbol"])
        facts.update(value)
    else:
        result = {} if out is None and observe else _outputs(out, header["symbol"])
    for index in observe:
        if index >= len(args):
            raise ProbeError("grader error", f"the check observes argument {index}, not passed")
        result.update(_after(args[index], f"after.arg{index}"))
    for name, leaf in leaves.items():
        if name.startswith("with_grad:"):
            # what the call did to a parameter's gradient (clipping scales it in place)
            key = name.split(":", 1)[1]
            result[f"grad_after.{key}"] = (
                torch.zeros_like(leaf.detach())
                if leaf.grad is None
                else _tensor_out(leaf.grad, "gradient")
            )
    return result, facts


def _apply_returned(
    out: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> Any:
    """Call the module a symbol returned, in eval mode, on the check's ``apply`` arguments."""
    if not isinstance(out, torch.nn.Module):
        raise ProbeError(
            "error",
            f"{header['symbol']} returned {type(out).__name__}, expected a torch.nn.Module",
        )
    args = [_materialise(r, tensors, {}, f"apply{i}", False) for i, r in enumerate(header["apply"])]
    with torch.no_grad(), guard:
        out.eval()
        return out(*args)


def _after(value: Any, name: str) -> dict[str, torch.Tensor]:
    """An argument as it is after the call: a tensor, or every state_dict entry of a module."""
    if isinstance(value, torch.nn.Module):
        return {f"{name}.{k}": _tensor_out(v, name) for k, v in value.state_dict().items()}
    return {name: _tensor_out(value, name)}


def _upstream(out: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.dtype)


def run_backward(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(header["seed"])
    facts: dict[str, Any] = {}
    out, leaves, _ = _invoke(module, header, tensors, guard, grad=True, facts=facts)
    if isinstance(out, (tuple, list)):
        # each tensor of a tuple (attention's output and weights) gets an upstream gradient of
        # its own; a None (weights not asked for) contributes nothing
        if any(t is not None and not isinstance(t, torch.Tensor) for t in out):
            raise ProbeError(
                "error", f"{header['symbol']} returned a {type(out).__name__} of non-tensors"
            )
        parts = [t for t in out if isinstance(t, torch.Tensor) and t.requires_grad]
        if parts:
            loss = sum((t * _upstream(t, header["seed"] + i)).sum() for i, t in enumerate(parts))
            with guard:
                loss.backward()
        out = parts[0] if parts else torch.zeros(())
    elif not isinstance(out, torch.Tensor):
        raise ProbeError(
            "error", f"{header['symbol']} returned {type(out).__name__}, expected a torch.Tensor"
        )
    elif out.requires_grad:
        loss = (out * _upstream(out, header["seed"])).sum()
        with guard:
            loss.backward()
    # An output that does not require grad (a step function) has zero gradient everywhere.
    result = {}
    for name, leaf in leaves.items():
        grad = leaf.grad
        result[f"grad.{name}"] = (
            torch.zeros_like(leaf.detach()) if grad is None else _tensor_out(grad, "backward")
        )
    return result, {"requires_grad": bool(out.requires_grad), **facts}


def run_gradcheck(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Analytic Jacobian rows and central-difference forward values, for a trusted gradcheck."""
    torch.manual_seed(header["seed"])
    out, leaves, _ = _invoke(module, header, tensors, guard, grad=True)
    if not isinstance(out, torch.Tensor):
        raise ProbeError(
            "error", f"{header['symbol']} returned {type(out).__name__}, expected a torch.Tensor"
        )
    inputs = list(leaves.values())
    n_in = sum(x.numel() for x in inputs)
    flat = out.reshape(-1)
    jac = torch.zeros(flat.numel(), n_in, dtype=torch.float64)
    for j in range(flat.numel()):
        if not flat.requires_grad:
            break
        with guard:
            grads = torch.autograd.grad(flat[j], inputs, retain_graph=True, allow_unused=True)
        row = [
            torch.zeros(x.numel(), dtype=torch.float64)
            if g is None
            else _tensor_out(g, "backward").reshape(-1).double()
            for g, x in zip(grads, inputs, strict=True)
        ]
        jac[j] = torch.cat(row)
    eps = float(header["eps"])
    plus = torch.zeros(n_in, flat.numel(), dtype=torch.float64)
    minus = torch.zeros_like(plus)
    base = [x.detach().clone() for x in inputs]
    k = 0
    for i, x in enumerate(base):
        for e in range(x.numel()):
            for sign, store in ((1.0, plus), (-1.0, minus)):
                shifted = [b.clone() for b in base]
                shifted[i].view(-1)[e] += sign * eps
                values = _replace_leaves(header, tensors, leaves, shifted)
                with torch.no_grad(), guard:
                    y = _call_again(module, header, values)
                store[k] = _tensor_out(y, header["symbol"]).reshape(-1).double()
            k += 1
    return {"jacobian": jac, "f_plus": plus, "f_minus": minus}, {}


def _replace_leaves(
    header: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    leaves: dict[str, torch.Tensor],
    values: list[torch.Tensor],
) -> list[Any]:
    by_name = dict(zip(leaves.keys(), values, strict=True))
    return [
        by_name[f"arg{i}"]
        if f"arg{i}" in by_name
        else _materialise(r, tensors, {}, f"arg{i}", False)
        for i, r in enumerate(header["args"])
    ]


def _call_again(module: Any, header: dict[str, Any], args: list[Any]) -> Any:
    sym = getattr(module, header["symbol"])
    if header.get("call") == "autograd_function":
        return sym.apply(*args)
    return sym(*args, **_literal(header.get("kwargs", {})))


def run_distribution(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(header["seed"])
    want_mask = bool(header.get("check_backward_mask"))
    out, leaves, (_, args) = _invoke(module, header, tensors, guard, grad=want_mask)
    sample = header.get("sample", "output")
    facts: dict[str, Any] = {}
    result: dict[str, torch.Tensor] = {}
    if sample == "input":
        facts["returns_input"] = out is args[0]
        # in the tensor's own dtype: the grader widens it; float64 here doubled the bytes sent
        result["sample"] = args[0].detach().clone().reshape(-1)
    else:
        y = _tensor_out(out, header["symbol"])
        if sample == "output_over_input":
            x = args[0].detach()
            if y.shape != x.shape:
                raise ProbeError(
                    "error", f"output shape {tuple(y.shape)} != input shape {tuple(x.shape)}"
                )
            result["sample"] = (y.double() / x.double()).reshape(-1)
        else:
            result["sample"] = y.reshape(-1)
        if header.get("per_last_dim"):
            # one column per last-dimension slice, tested separately on the trusted side
            result["sample"] = result["sample"].reshape(-1, y.shape[-1] if y.dim() else 1)
    if want_mask:
        if not out.requires_grad:
            raise ProbeError(
                "error", "the output does not require grad, so no gradient reaches the input"
            )
        g = (
            torch.rand(
                out.shape,
                generator=torch.Generator().manual_seed(header["seed"]),
                dtype=torch.float64,
            ).to(out.dtype)
            + 0.5
        )
        with guard:
            (out * g).sum().backward()
        x = leaves["arg0"]
        grad = torch.zeros_like(x.detach()) if x.grad is None else _tensor_out(x.grad, "backward")
        result["grad_ratio"] = (grad.double() / g.double()).reshape(-1)
    return result, facts


def run_optimizer(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Trajectory of all parameters after every step on the grader's fixed MLP problem.

    With ``groups`` the optimizer gets parameter groups instead of one list; ``lr_schedule``
    sets every group's ``"lr"`` before the steps it names, as a scheduler does.
    """
    sym = _symbol(module, header["symbol"])
    names = ["w1", "b1", "w2", "b2", "unused"]
    params = [tensors[header["params"][n]["t"]].clone().requires_grad_(True) for n in names]
    by_name = dict(zip(names, params, strict=True))
    given: list[Any] = [
        {"params": [by_name[n] for n in group["params"]], **_literal(group["options"])}
        for group in header.get("groups") or []
    ] or params
    schedule = {int(step): float(lr) for step, lr in (header.get("lr_schedule") or {}).items()}
    x, y = tensors[header["x"]["t"]], tensors[header["y"]["t"]]
    batch = int(header["batch"])
    with guard:
        opt = sym(given, **_literal(header.get("kwargs", {})))
    rows = []
    w1, b1, w2, b2, _ = params
    for step in range(int(header["steps"])):
        if step + 1 in schedule:
            with guard:
                _set_lr(opt, schedule[step + 1], header["symbol"])
        start = (step * batch) % x.shape[0]
        xb, yb = x[start : start + batch], y[start : start + batch]
        pred = torch.tanh(xb @ w1.T + b1) @ w2.T + b2
        loss = ((pred - yb) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with guard:
            opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
    return {"trajectory": torch.stack(rows)}, {}


def _set_lr(opt: Any, lr: float, name: str) -> None:
    """What a learning-rate scheduler does between steps."""
    groups = getattr(opt, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise ProbeError(
            "error", f"{name} has no param_groups list (subclass torch.optim.Optimizer)"
        )
    for group in groups:
        group["lr"] = lr


def run_module_state(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(header["seed"])
    sym = _symbol(module, header["symbol"])
    if not isinstance(sym, type) or not issubclass(sym, torch.nn.Module):
        raise ProbeError("error", f"{header['symbol']} must be a torch.nn.Module subclass")
    with guard:
        built = sym(**_literal(header.get("init", {})))
    params = dict(built.named_parameters())
    buffers = dict(built.named_buffers())
    info: dict[str, Any] = {}
    result: dict[str, torch.Tensor] = {}
    for name in header["expect"]:
        value = _named_tensor(built, name)
        kind = (
            "parameter"
            if name in params
            else "buffer"
            if name in buffers
            else "attribute"
            if value is not None
            else "missing"
        )
        info[name] = {"kind": kind, "shape": list(value.shape) if value is not None else None}
        if value is not None:
            result[f"init.{name}"] = _tensor_out(value, name)
    if not header.get("compare_init", True):
        result = {k: v for k, v in result.items() if not k.startswith("init.")}
    for i, step in enumerate(header["steps"]):
        leaves: dict[str, torch.Tensor] = {}
        args = [
            _materialise(r, tensors, leaves, f"arg{j}", False) for j, r in enumerate(step["args"])
        ]
        built.train(step["mode"] == "train")
        with guard:
            out = built(*args, **_literal(step.get("kwargs", {})))
        result[f"step{i}.out"] = _tensor_out(out, header["symbol"])
        for name in header["expect"]:
            value = _named_tensor(built, name)
            if value is not None:
                result[f"step{i}.{name}"] = _tensor_out(value, name)
    return result, {"state": info}


RUNNERS = {
    "forward": run_forward,
    "backward": run_backward,
    "gradcheck": run_gradcheck,
    "distribution": run_distribution,
    "optimizer": run_optimizer,
    "module_state": run_module_state,
    "benchmark": run_benchmark,
}


def run_probe(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any], float]:
    """Dispatch one probe; returns (outputs, facts, seconds). Raises ProbeError or anything."""
    start = time.perf_counter()
    runner = RUNNERS.get(str(header.get("kind")))
    if runner is None:
        raise ProbeError("grader error", f"this worker has no runner for {header.get('kind')!r}")
    outputs, facts = runner(module, header, tensors, guard)
    return outputs, facts, time.perf_counter() - start
