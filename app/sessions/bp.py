"""BP (fully connected) networks on a dataset: a session made from a network spec
that trains on the dataset, the decision boundary over the 2-D data, and the loss
and accuracy on train and test (learning rates side by side: bp_compare)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.encoding import json_number
from app.limits import at_most
from app.schemas import SessionCreate
from app.schemas.bp import BPNetwork, BPSessionCreate
from app.sessions.service import SessionService
from app.sessions.state import Live
from app.settings import Limits
from engine.data import DatasetSplit, load_split
from engine.data.toy import load_toy_split
from engine.models import model_from_spec
from engine.network import Sequential
from engine.training import evaluate


def dataset_of(req: BPNetwork) -> DatasetSplit:
    if req.dataset == "digits":
        return load_split("digits")
    return load_toy_split(req.dataset, noise=req.noise, seed=req.seed)


def network_spec(req: BPNetwork, data: DatasetSplit) -> dict[str, Any]:
    """input -> [dense h, activation] * len(hidden) -> dense classes (the logits of a
    softmax cross-entropy), and for mse a sigmoid after it: output neurons in (0, 1),
    each pushed towards its one-hot target (1 for the class, 0 for the others)."""
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
    if req.loss == "mse":
        layers.append({"type": "sigmoid"})
        return {"input_shape": shape, "loss": "mse_onehot", "layers": layers}
    return {"input_shape": shape, "loss": req.loss, "layers": layers}


def check_hidden(req: BPNetwork, limits: Limits) -> None:
    """The hidden layers within the configured limits (422 naming the limit)."""
    check_hidden_sizes(req.hidden, limits)


def check_hidden_sizes(hidden: list[int], limits: Limits) -> None:
    """Hidden layers of these sizes within the BP page's limits (LimitExceeded): also
    a network read into a BP session (app.sessions.sharing)."""
    at_most("hidden (layers)", len(hidden), limits, "max_bp_layers")
    for k, n in enumerate(hidden):
        at_most(f"hidden[{k}] (neurons)", n, limits, "max_bp_neurons")


def create_session(service: SessionService, req: BPSessionCreate) -> Live:
    check_hidden(req, service.settings.limits)
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


def boundary(service: SessionService, sid: str, resolution: int) -> dict[str, Any]:
    """The network's answer on a grid over the 2-D data, the predicted class per cell
    (the largest output) and the data points. A softmax cross-entropy network gives
    "probs" (softmax of its logits); an mse one "outputs" (its sigmoid neurons, each
    in (0, 1), not summing to 1). Cell [i][j] is at (xs[j], ys[i])."""
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
        out = net.predict(grid)
    scores = _softmax(out) if net.loss_kind == "softmax_cross_entropy" else out
    k = scores.shape[1]
    key = "probs" if net.loss_kind == "softmax_cross_entropy" else "outputs"
    return {
        "dataset": data.name,
        "classes": list(data.classes),
        "resolution": resolution,
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "loss": "mse" if net.loss_kind == "mse_onehot" else net.loss_kind,
        key: scores.reshape(resolution, resolution, k),
        "predicted": scores.argmax(axis=1).reshape(resolution, resolution),
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
    train_loss, train_acc = evaluate(net, data.x_train, data.y_train)
    test_loss, test_acc = evaluate(net, data.x_test, data.y_test)
    return {"train_loss": json_number(train_loss), "test_loss": json_number(test_loss),
            "train_accuracy": train_acc, "test_accuracy": test_acc}  # fmt: skip


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
