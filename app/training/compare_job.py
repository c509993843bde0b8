"""Learning rates side by side, as a training process runs them (a "compare" job).

One copy of a BP network per rate, all from the same initial weights and the same
batch order; the loss and accuracy on train and test before training (epoch 0) and
after each epoch. It imports NumPy and the engine only (child.py runs it); the
request side (checks, the JSON answer) is app/sessions/bp_compare.py.

A job: {"kind": "compare", "spec", "seed", "lrs", "epochs", "batch_size",
"optimizer" (its type), "dataset": {"name", "noise", "seed"}}. The result's numbers
are plain floats (NaN and infinities included); the request side encodes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.data import DatasetSplit, load_split
from engine.data.toy import load_toy_split
from engine.models import model_from_spec
from engine.optim import make_optimizer
from engine.training import evaluate

DIVERGED_FACTOR = 2.0  # final train loss above this times the initial one: diverged


class Stopped(Exception):
    """The job was cancelled (its client left) between two batches."""


def load_data(dataset: dict[str, Any]) -> DatasetSplit:
    """The compare's dataset: digits, or a toy set by name, noise and seed."""
    if dataset["name"] == "digits":
        return load_split("digits")
    return load_toy_split(dataset["name"], noise=dataset["noise"], seed=dataset["seed"])


def run_compare(job: dict[str, Any], stop: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Every rate's run of the job (Stopped if `stop()` says so between batches)."""
    data = load_data(job["dataset"])
    first = model_from_spec(job["spec"], seed=job["seed"])
    start = {k: v.copy() for k, v in first.params().items()}
    runs = [_run(job, start, lr, data, stop) for lr in job["lrs"]]
    return {"dataset": data.name, "runs": runs}


def _run(
    job: dict[str, Any], start: dict[str, np.ndarray], lr: float, data: DatasetSplit,
    stop: Callable[[], bool],
) -> dict[str, Any]:  # fmt: skip
    net = model_from_spec(job["spec"], seed=job["seed"])
    net.set_params({k: v.copy() for k, v in start.items()})
    opt = make_optimizer({"type": job["optimizer"], "lr": lr})
    rng = np.random.default_rng(job["seed"])
    n, batch = len(data.y_train), job["batch_size"]
    curves: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "train_accuracy": [],
                                      "test_accuracy": []}  # fmt: skip

    def record() -> float:
        for split in ("train", "test"):
            value, acc = evaluate(net, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"))
            curves[f"{split}_loss"].append(value)
            curves[f"{split}_accuracy"].append(acc)
        return curves["train_loss"][-1]

    initial = record()  # epoch 0: the shared starting weights
    nonfinite_at = None
    for epoch in range(job["epochs"]):
        order = rng.permutation(n)
        loss = 0.0
        with np.errstate(all="ignore"):
            for i in range(0, n, batch):
                if stop():
                    raise Stopped
                idx = order[i : i + batch]
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
    return {"lr": lr, "diverged": nonfinite_at is not None or blew_up,
            "nonfinite": nonfinite_at is not None, "nonfinite_at_epoch": nonfinite_at,
            **curves}  # fmt: skip
