"""Recipe ``mlp`` (Homework 1): train a fixed network built from the submission's components.

flatten -> Linear(3072, hidden) -> BatchNorm1d -> relu -> Dropout -> Linear(hidden, 2); hidden
weights initialised with the student's ``kaiming_normal_`` (relu), the output layer with
``xavier_uniform_``, biases zero; the student's Adam minimises the student's cross_entropy plus
``l2 * l2_penalty(weights)``. Returns the trained state by role (``fc1``, ``bn``, ``fc2``): the
trusted side predicts the held-out images with its own components from that state.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.untrusted.guard import Guard
from autograder.untrusted.recipes.common import (
    Budget,
    component,
    curve,
    order_generator,
    state_of,
    train_split,
)
from autograder.wire.transforms import standardise_images

STATE = [
    "fc1.weight",
    "fc1.bias",
    "bn.weight",
    "bn.bias",
    "bn.running_mean",
    "bn.running_var",
    "fc2.weight",
    "fc2.bias",
]


def _net(module: Any, header: dict[str, Any], hidden: int, dropout: float) -> torch.nn.Module:
    linear, bn = component(module, header, "linear"), component(module, header, "batchnorm")
    drop, relu = component(module, header, "dropout"), component(module, header, "relu")
    init_hidden = component(module, header, "init_hidden")
    init_out = component(module, header, "init_out")

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
    return net


def run(
    module: Any, header: dict[str, Any], tensors: dict[str, torch.Tensor], guard: Guard
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    params = header["params"]
    budget = Budget(header)
    data = train_split(header, tensors)
    images, labels = data["images"], data["labels"]
    order = order_generator(header)
    if params.get("train_subset"):
        keep = torch.randperm(images.shape[0], generator=order)[: int(params["train_subset"])]
        images, labels = images[keep], labels[keep]
    x_all = standardise_images(images, header["data_info"])
    with guard:
        net = _net(module, header, int(params["hidden"]), float(params["dropout"]))
        opt = component(module, header, "optimizer")(net.parameters(), lr=float(params["lr"]))
    loss_fn, penalty = component(module, header, "loss"), component(module, header, "penalty")
    l2 = float(params.get("l2", 0.0))
    batch = int(params["batch_size"])
    weights = [net.fc1.weight, net.fc2.weight]
    losses: list[float] = []
    n = x_all.shape[0]
    for _epoch in range(int(params["epochs"])):
        net.train()
        perm = torch.randperm(n, generator=order)
        running, count = 0.0, 0
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            if idx.numel() < 2:
                continue  # batch norm needs two samples per batch
            with guard:
                logits = net(x_all[idx])
                loss = loss_fn(logits, labels[idx])
                if l2:
                    loss = loss + l2 * penalty(weights)
                for p in net.parameters():
                    p.grad = None
                loss.backward()
                opt.step()
            running += float(loss.detach())
            count += 1
            budget.check()
        losses.append(running / max(count, 1))
    outputs = state_of(net, STATE, "network")
    outputs["curve.loss"] = curve(losses)
    return outputs, budget.facts()
