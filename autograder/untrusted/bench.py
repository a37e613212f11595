"""The benchmark recipe: train a fixed network built from the submission's components (untrusted side).

The grader supplies training images with labels and test images without labels; the worker
returns predictions for the test images and the loss curve. Test labels never enter this
process, so accuracy can only be earned by predicting well.

Recipe ``mlp``: flatten -> Linear(3072, hidden) -> BatchNorm1d -> relu -> Dropout -> Linear(hidden, 2),
hidden weights initialised with the student's ``kaiming_normal_`` (relu), the output layer with
``xavier_uniform_``, biases zero; the student's Adam minimises the student's cross_entropy plus
``l2 * l2_penalty(weights)``. Deterministic: fixed seed, one thread, deterministic algorithms.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from autograder.untrusted.failures import BudgetExceeded, ProbeError
from autograder.untrusted.guard import Guard

# Per-channel statistics of the CIFAR-10 cat/dog training images (0-1 scale); fixed constants
# keep the recipe identical whatever subset is used.
_MEAN = torch.tensor([0.4925, 0.4545, 0.4145]).view(1, 3, 1, 1)
_STD = torch.tensor([0.2482, 0.2432, 0.2442]).view(1, 3, 1, 1)


def _images(x: torch.Tensor) -> torch.Tensor:
    return ((x.float() / 255.0) - _MEAN) / _STD


def _component(module: Any, components: dict[str, str], role: str) -> Any:
    name = components.get(role)
    if name is None:
        raise ProbeError("grader error", f"benchmark spec names no component for {role!r}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise ProbeError("missing symbol", f"{name} is not defined in the submission") from None


def _mlp(
    module: Any, c: dict[str, str], hidden: int, dropout: float
) -> tuple[torch.nn.Module, list[torch.Tensor]]:
    linear, bn = _component(module, c, "linear"), _component(module, c, "batchnorm")
    drop, relu = _component(module, c, "dropout"), _component(module, c, "relu")
    init_hidden, init_out = _component(module, c, "init_hidden"), _component(module, c, "init_out")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = linear(3 * 32 * 32, hidden)
            self.bn = bn(hidden)
            self.drop = drop(dropout)
            self.fc2 = linear(hidden, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(self.drop(relu(self.bn(self.fc1(x.flatten(1))))))

    net = Net()
    init_hidden(net.fc1.weight, nonlinearity="relu")
    init_out(net.fc2.weight)
    with torch.no_grad():
        for layer in (net.fc1, net.fc2):
            if getattr(layer, "bias", None) is not None:
                layer.bias.zero_()
    return net, [net.fc1.weight, net.fc2.weight]


def _custom(
    module: Any,
    header: dict[str, Any],
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    guard: Guard,
    start: float,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The student's own model: ``build() -> model``, ``train(model, images, labels, budget_seconds)``
    (returns a list of losses or None), ``predict(model, images) -> int64 labels``. Images are
    float32 (N, 3, 32, 32) normalised per channel."""
    c = header["components"]
    budget = float(header["budget_seconds"])
    build, train, predict = (_component(module, c, role) for role in ("build", "train", "predict"))
    with guard:
        model = build()
        losses = train(model, _images(train_x), train_y.clone(), budget)
    train_seconds = time.perf_counter() - start
    if train_seconds > budget:
        raise BudgetExceeded(f"training took {train_seconds:.1f} s, over the {budget:g} s budget")
    with torch.no_grad(), guard:
        predictions = predict(model, _images(test_x))
    if not isinstance(predictions, torch.Tensor):
        predictions = torch.as_tensor(predictions)
    curve = torch.tensor([float(v) for v in (losses or [])][:10000], dtype=torch.float64)
    return (
        {
            "predictions": predictions.detach()
            .as_subclass(torch.Tensor)
            .to(torch.int64)
            .reshape(-1)
            .clone(),
            "loss_curve": curve,
        },
        {"train_seconds": train_seconds, "seconds": time.perf_counter() - start},
    )


def run_benchmark(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(int(header["seed"]))
    torch.set_num_threads(int(header.get("threads", 1)))
    torch.use_deterministic_algorithms(True)
    budget = float(header["budget_seconds"])
    start = time.perf_counter()
    c = header["components"]
    train_x, train_y = tensors["data|train_images"], tensors["data|train_labels"]
    test_x = tensors["data|test_images"]
    if header.get("train_subset"):
        # a fixed random subset: the archive is ordered cats first, so a prefix would be one class
        keep = torch.randperm(train_x.shape[0], generator=torch.Generator().manual_seed(0))[
            : int(header["train_subset"])
        ]
        train_x, train_y = train_x[keep], train_y[keep]
    if header.get("recipe") == "custom":
        return _custom(module, header, train_x, train_y, test_x, guard, start)
    x_all = _images(train_x)
    with guard:
        net, weights = _mlp(module, c, int(header["hidden"]), float(header["dropout"]))
        opt = _component(module, c, "optimizer")(net.parameters(), lr=float(header["lr"]))
    loss_fn, penalty = _component(module, c, "loss"), _component(module, c, "penalty")
    l2 = float(header.get("l2", 0.0))
    batch = int(header["batch_size"])
    g = torch.Generator().manual_seed(int(header["seed"]))
    curve: list[float] = []
    n = x_all.shape[0]
    for _epoch in range(int(header["epochs"])):
        net.train()
        order = torch.randperm(n, generator=g)
        running, count = 0.0, 0
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            if idx.numel() < 2:
                continue  # batch norm needs two samples per batch
            with guard:
                logits = net(x_all[idx])
                loss = loss_fn(logits, train_y[idx])
                if l2:
                    loss = loss + l2 * penalty(weights)
                for p in net.parameters():
                    p.grad = None
                loss.backward()
                opt.step()
            value = float(loss.detach())
            running += value
            count += 1
            if time.perf_counter() - start > budget:
                raise BudgetExceeded(
                    f"training stopped after {time.perf_counter() - start:.1f} s: over the {budget:g} s budget"
                )
        curve.append(running / max(count, 1))
    train_seconds = time.perf_counter() - start
    net.eval()
    preds = []
    with torch.no_grad(), guard:
        for i in range(0, test_x.shape[0], 500):
            preds.append(net(_images(test_x[i : i + 500])).argmax(dim=1))
    predictions = torch.cat(preds).to(torch.int64)
    return (
        {"predictions": predictions, "loss_curve": torch.tensor(curve, dtype=torch.float64)},
        {"train_seconds": train_seconds, "seconds": time.perf_counter() - start},
    )
