"""BP (fully connected) networks on a dataset: the request schemas, a session made
from a network spec that trains on the dataset, the decision boundary over the
2-D data, and several learning rates trained side by side from the same weights."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field

from app.limits import at_most
from app.schemas import NonNegativeInt, Seed, SessionCreate, Strict, _integral
from app.sessions.service import SessionService
from app.sessions.state import Live
from app.settings import Limits
from engine.data import DatasetSplit, load_split
from engine.data.toy import load_toy_split
from engine.models import model_from_spec
from engine.network import Sequential
from engine.optim import make_optimizer

MAX_HIDDEN_LAYERS = 4
MAX_NEURONS = 64
MAX_COMPARE_RUNS = 6
MAX_COMPARE_EPOCHS = 50
MAX_BOUNDARY_RESOLUTION = 100
DIVERGED_FACTOR = 2.0  # final train loss above this times the initial one: diverged
DATASETS = ("xor", "circles", "moons", "spiral", "blobs", "digits")

Dataset = Literal["xor", "circles", "moons", "spiral", "blobs", "digits"]
Neurons = Annotated[int, Field(ge=1, le=MAX_NEURONS), BeforeValidator(_integral)]
LearningRate = Annotated[float, Field(gt=0, le=100)]


class BPNetwork(Strict):
    """A fully connected network on a dataset: input = features, output = classes."""

    dataset: Dataset = "moons"
    noise: float = Field(0.1, ge=0, le=1, description="toy sets: noise (standard deviation)")
    hidden: list[Neurons] = Field(
        default_factory=lambda: [8], max_length=MAX_HIDDEN_LAYERS, description="neurons per layer"
    )
    activation: Literal["relu", "leaky_relu", "sigmoid", "tanh"] = "tanh"
    loss: Literal["softmax_cross_entropy"] = "softmax_cross_entropy"
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    seed: Seed = 0


class BPSessionCreate(BPNetwork):
    lr: LearningRate = 0.1
    sample: NonNegativeInt = Field(0, description="the training sample the first pass runs on")


class BPCompare(BPNetwork):
    lrs: list[LearningRate] = Field(min_length=1, max_length=MAX_COMPARE_RUNS)
    epochs: Annotated[int, Field(ge=1, le=MAX_COMPARE_EPOCHS), BeforeValidator(_integral)] = 20
    batch_size: Annotated[int, Field(ge=1, le=64), BeforeValidator(_integral)] = 32


def dataset_of(req: BPNetwork) -> DatasetSplit:
    if req.dataset == "digits":
        return load_split("digits")
    return load_toy_split(req.dataset, noise=req.noise, seed=req.seed)


def network_spec(req: BPNetwork, data: DatasetSplit) -> dict[str, Any]:
    """input -> [dense h, activation] * len(hidden) -> dense classes."""
    shape = list(data.x_train.shape[1:])
    layers: list[dict[str, Any]] = []
    features = int(np.prod(shape))
    if len(shape) > 1:
        layers.append({"type": "flatten"})
    for h in req.hidden:
        layers += [{"type": "dense", "in_features": features, "out_features": h},
                   {"type": req.activation}]  # fmt: skip
        features = h
    layers.append({"type": "dense", "in_features": features, "out_features": len(data.classes)})
    return {"input_shape": shape, "loss": req.loss, "layers": layers}


def create_session(service: SessionService, req: BPSessionCreate) -> Live:
    data = dataset_of(req)
    index = min(req.sample, len(data.y_train) - 1)
    create = SessionCreate.model_validate(
        {
            "network": network_spec(req, data),
            "seed": req.seed,
            "overrides": {"optimizer": {"type": req.optimizer, "lr": req.lr}},
            "input": {"sample": {"split": "train", "index": index}},
        }
    )
    return service.create(create, data=data)


def dataset_info(live: Live) -> dict[str, Any]:
    """Name, classes, features and sizes of the session's dataset."""
    data = live.data
    assert data is not None
    return {"name": data.name, "classes": list(data.classes),
            "features": int(np.prod(data.x_train.shape[1:])),
            "train": len(data.y_train), "test": len(data.y_test)}  # fmt: skip


def boundary(service: SessionService, sid: str, resolution: int) -> dict[str, Any]:
    """The network's class probabilities on a grid over the 2-D data (probs[i][j] at
    (xs[j], ys[i])), the predicted class per cell, and the data points."""
    with service.session(sid) as live:
        data = service.dataset(live)
        if data is None or data.x_train.ndim != 2 or data.x_train.shape[1] != 2:
            raise ValueError("a decision boundary needs a session on a 2-D toy dataset")
        net = model_from_spec(live.net.spec())
        net.set_params({k: v.copy() for k, v in live.net.params().items()})
    pts = np.concatenate([data.x_train, data.x_test])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * (hi - lo) + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    with np.errstate(all="ignore"):
        probs = _softmax(net.predict(grid))
    k = probs.shape[1]
    return {
        "dataset": data.name,
        "classes": list(data.classes),
        "resolution": resolution,
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "probs": probs.reshape(resolution, resolution, k),
        "predicted": probs.argmax(axis=1).reshape(resolution, resolution),
        "train": {"x": data.x_train, "y": data.y_train},
        "test": {"x": data.x_test, "y": data.y_test},
        **_metrics(net, data),
    }


def metrics(service: SessionService, sid: str) -> dict[str, Any]:
    """Loss and accuracy of the session's network on its dataset's train and test sets."""
    with service.session(sid) as live:
        data = service.dataset(live)
        if data is None:
            raise ValueError("this session has no dataset")
        net = model_from_spec(live.net.spec())
        net.set_params({k: v.copy() for k, v in live.net.params().items()})
    return {"dataset": data.name, **_metrics(net, data)}


def _metrics(net: Sequential, data: DatasetSplit) -> dict[str, Any]:
    train_loss, train_acc = _evaluate(net, data.x_train, data.y_train)
    test_loss, test_acc = _evaluate(net, data.x_test, data.y_test)
    return {"train_loss": _num(train_loss), "test_loss": _num(test_loss),
            "train_accuracy": train_acc, "test_accuracy": test_acc}  # fmt: skip


def compare(req: BPCompare, limits: Limits) -> dict[str, Any]:
    """One copy of the network per learning rate, all from the same initial weights
    and the same batch order; the loss and accuracy on train and test before training
    (epoch 0) and after each epoch. A run whose loss overflows (NaN/Inf) stops there;
    it, or one whose loss ends above DIVERGED_FACTOR times where it began, is diverged."""
    at_most("epochs", req.epochs, limits, "max_epochs")
    at_most("batch_size", req.batch_size, limits, "max_batch")
    data = dataset_of(req)
    batches = math.ceil(len(data.y_train) / req.batch_size)
    at_most("iterations per run (epochs x batches)", req.epochs * batches, limits, "max_iterations")
    spec = network_spec(req, data)
    first = model_from_spec(spec, seed=req.seed)
    start = {k: v.copy() for k, v in first.params().items()}
    runs = [_run(spec, start, req, lr, data) for lr in req.lrs]
    return {"dataset": data.name, "network": spec, "epochs": req.epochs, "runs": runs}


def _run(
    spec: dict[str, Any], start: dict[str, np.ndarray], req: BPCompare, lr: float,
    data: DatasetSplit,
) -> dict[str, Any]:  # fmt: skip
    net = model_from_spec(spec, seed=req.seed)
    net.set_params({k: v.copy() for k, v in start.items()})
    opt = make_optimizer({"type": req.optimizer, "lr": lr})
    rng = np.random.default_rng(req.seed)
    n = len(data.y_train)
    curves: dict[str, list[Any]] = {"train_loss": [], "test_loss": [], "train_accuracy": [],
                                    "test_accuracy": []}  # fmt: skip

    def record() -> float:
        for split in ("train", "test"):
            value, acc = _evaluate(net, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"))
            curves[f"{split}_loss"].append(value)
            curves[f"{split}_accuracy"].append(acc)
        return curves["train_loss"][-1]

    initial = record()  # epoch 0: the shared starting weights
    nonfinite_at = None
    for epoch in range(req.epochs):
        order = rng.permutation(n)
        loss = 0.0
        with np.errstate(all="ignore"):
            for i in range(0, n, req.batch_size):
                idx = order[i : i + req.batch_size]
                loss = net.train_batch(data.x_train[idx], data.y_train[idx], opt)
                if not math.isfinite(loss):
                    break
        train_loss = record()
        if not (math.isfinite(loss) and math.isfinite(train_loss)):
            nonfinite_at = epoch + 1
            break
    final = curves["train_loss"][-1]
    # Diverged: the loss overflowed (NaN/Inf), or it ended far above where it started.
    blew_up = math.isfinite(final) and final > DIVERGED_FACTOR * initial
    out = {k: [_num(v) for v in vs] for k, vs in curves.items()}
    return {"lr": lr, "diverged": nonfinite_at is not None or blew_up,
            "nonfinite": nonfinite_at is not None, "nonfinite_at_epoch": nonfinite_at,
            **out}  # fmt: skip


def _evaluate(net: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        out = net.predict(x)
        if not np.all(np.isfinite(out)):
            return float("nan"), float(np.mean(np.nan_to_num(out).argmax(axis=1) == y))
        value, _ = net.loss(out, y)
    return float(value), float(np.mean(out.argmax(axis=1) == y))


def _num(v: float) -> float | str:
    """A float, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers)."""
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
