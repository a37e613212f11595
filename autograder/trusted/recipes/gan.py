"""Recipe ``gan`` (Homework 4), trusted half: draw samples from the generator the student's
losses trained and score them with a frozen digit classifier (a per-dataset analogue of the
Inception score, in two parts).

- ``confidence``: the classifier's mean largest class probability on the samples (do they look
  like some digit?);
- ``class_entropy``: the entropy, in nats, of the histogram of predicted classes (are all ten
  digits drawn? ln 10 = 2.303 when they are, equally often; 0 for a collapsed generator).

The classifier is the grader's own MLP, trained on the trusted side on the held-out images,
which never entered the sandbox and are chosen by the course secret: a submission cannot
rebuild it to aim its samples at it. It is trained once per process and dataset split (about
0.3 s, deterministic: full-batch Adam from a fixed seed on one thread) and kept in memory.
"""

from __future__ import annotations

import hashlib
import threading

import torch
import torch.nn.functional as F
from pydantic import Field

from autograder.trusted.metrics import class_entropy, mean_confidence
from autograder.trusted.recipes.base import Params, Trained, TrustedRecipe
from autograder.wire.transforms import unit_pixels


class GanParams(Params):
    noise: int = Field(default=16, ge=1, le=1024)
    hidden: int = Field(default=128, ge=1, le=4096)
    steps: int = Field(default=2000, ge=1, le=100000)
    batch_size: int = Field(default=64, ge=1, le=4096)
    lr: float = Field(default=1e-3, gt=0)
    beta1: float = Field(default=0.5, ge=0, lt=1)
    # samples the trusted side draws from the trained generator, from a fixed seed
    samples: int = Field(default=1000, ge=10, le=100000)
    sample_seed: int = 0


# The frozen classifier: pixels -> Linear(64, 64) -> relu -> Linear(64, classes).
CLASSIFIER_HIDDEN = 64
CLASSIFIER_STEPS = 300
CLASSIFIER_LR = 0.01
CLASSIFIER_WEIGHT_DECAY = 1e-4
CLASSIFIER_SEED = 0

_classifiers: dict[str, dict[str, torch.Tensor]] = {}
_lock = threading.Lock()


def _key(x: torch.Tensor, labels: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in (x, labels):
        h.update(f"{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


def train_classifier(
    x: torch.Tensor, labels: torch.Tensor, classes: int
) -> dict[str, torch.Tensor]:
    """The classifier's weights, trained on ``x`` [N, D] float32 in [0, 1] and ``labels`` [N]
    (full-batch Adam, fixed seed, one thread: the same weights on every run)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        g = torch.Generator().manual_seed(CLASSIFIER_SEED)
        dims = [(x.shape[1], CLASSIFIER_HIDDEN), (CLASSIFIER_HIDDEN, classes)]
        weights = []
        for fan_in, fan_out in dims:
            bound = fan_in**-0.5
            w = (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound
            weights += [w.requires_grad_(), torch.zeros(fan_out, requires_grad=True)]
        opt = torch.optim.Adam(weights, lr=CLASSIFIER_LR, weight_decay=CLASSIFIER_WEIGHT_DECAY)
        for _ in range(CLASSIFIER_STEPS):
            loss = F.cross_entropy(_logits(weights, x), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    names = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
    return {name: w.detach().clone() for name, w in zip(names, weights, strict=True)}


def _logits(weights: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2 = weights
    return F.linear(torch.relu(F.linear(x, w1, b1)), w2, b2)


def classifier(trained: Trained) -> dict[str, torch.Tensor]:
    """The frozen classifier of this dataset split, trained on its first use in this process."""
    x = unit_pixels(trained.held_out["images"], trained.info)
    labels = trained.held_out["labels"]
    key = _key(x, labels)
    with _lock:
        if key not in _classifiers:
            _classifiers[key] = train_classifier(x, labels, len(trained.info["classes"]))
        return _classifiers[key]


@torch.no_grad()
def class_probabilities(weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The frozen classifier's class probabilities [N, classes] for pixels ``x`` [N, D]."""
    names = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
    return torch.softmax(_logits([weights[n] for n in names], x), dim=1)


@torch.no_grad()
def generate(state: dict[str, torch.Tensor], samples: int, noise: int, seed: int) -> torch.Tensor:
    """``samples`` images [samples, D] in [0, 1] from the generator in ``state``, with the
    grader's own noise (seeded) and arithmetic."""
    z = torch.randn(samples, noise, generator=torch.Generator().manual_seed(seed))
    h = F.leaky_relu(F.linear(z, state["gen1.weight"], state["gen1.bias"]), 0.2)
    return torch.sigmoid(F.linear(h, state["gen2.weight"], state["gen2.bias"]))


def measure(trained: Trained) -> dict[str, float]:
    p = trained.params
    images = generate(trained.state(), p.samples, p.noise, p.sample_seed)
    if not torch.isfinite(images).all():
        return {"confidence": float("nan"), "class_entropy": float("nan")}
    probabilities = class_probabilities(classifier(trained), images)
    return {
        "confidence": mean_confidence(probabilities),
        "class_entropy": class_entropy(probabilities),
    }


RECIPE = TrustedRecipe(
    name="gan", params=GanParams, produces=("confidence", "class_entropy"), measure=measure
)
