"""Several learning rates side by side: one copy of a BP network per rate, all from
the same initial weights and the same batch order, with their per-epoch loss and
accuracy on train and test and a divergence flag."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.encoding import json_number
from app.limits import at_most
from app.schemas.bp import BPCompare
from app.sessions.bp import check_hidden, dataset_of, evaluate, network_spec
from app.settings import Limits
from engine.data import DatasetSplit
from engine.models import model_from_spec
from engine.optim import make_optimizer

DIVERGED_FACTOR = 2.0  # final train loss above this times the initial one: diverged


def compare(req: BPCompare, limits: Limits) -> dict[str, Any]:
    """One copy of the network per learning rate, all from the same initial weights
    and the same batch order; the loss and accuracy on train and test before training
    (epoch 0) and after each epoch. A run whose loss overflows (NaN/Inf) stops there;
    it, or one whose loss ends above DIVERGED_FACTOR times where it began, is diverged."""
    check_hidden(req, limits)
    at_most("lrs (runs)", len(req.lrs), limits, "max_compare_runs")
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
            value, acc = evaluate(net, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"))
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
    out = {k: [json_number(v) for v in vs] for k, vs in curves.items()}
    return {"lr": lr, "diverged": nonfinite_at is not None or blew_up,
            "nonfinite": nonfinite_at is not None, "nonfinite_at_epoch": nonfinite_at,
            **out}  # fmt: skip
