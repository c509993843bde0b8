"""Training a network on samples in mini-batches, reporting progress as it goes.

The one training loop: the web app runs it in its training processes
(app/training/child.py), a notebook or a test may call it directly. Which
batches run depends only on the plan (batch size, iterations, shuffle seed), so
the same plan on the same network, optimizer and samples gives the same weights
wherever it runs. When progress is reported depends on the clock; the numbers
do not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.network import LABEL_LOSSES, Sequential

EMIT_EVERY_S = 0.1  # at most ten progress events a second (plus each epoch's last batch)


@dataclass(frozen=True)
class TrainPlan:
    """Which batches a training runs: `iterations` batches of `batch_size` samples,
    each epoch (pass over the samples) in an order shuffled by a generator seeded
    with `shuffle_seed` (one permutation per epoch)."""

    samples: int
    batch_size: int
    iterations: int
    shuffle_seed: int

    @classmethod
    def of(cls, samples: int, batch_size: int, epochs: int | None, iterations: int | None,
           shuffle_seed: int) -> TrainPlan:  # fmt: skip
        """`iterations` batches, or `epochs` (1 if neither) passes over the samples."""
        total = iterations or cls.per_epoch_of(samples, batch_size) * (epochs or 1)
        return cls(samples, batch_size, total, shuffle_seed)

    @staticmethod
    def per_epoch_of(samples: int, batch_size: int) -> int:
        return max(1, math.ceil(samples / batch_size))

    @property
    def per_epoch(self) -> int:
        return self.per_epoch_of(self.samples, self.batch_size)


@dataclass
class TrainOutcome:
    """How a training ended: "done", "diverged" (a loss that is not finite) or
    "cancelled"; the last batch's loss; batches run; seconds it took."""

    status: str = "done"
    loss: float = float("nan")
    iterations: int = 0
    elapsed: float = 0.0


def train(
    net: Sequential, opt: Any, xs: np.ndarray, ys: np.ndarray, plan: TrainPlan,
    emit: Callable[[dict[str, Any]], None], stop: Callable[[], bool],
    emit_every_s: float = EMIT_EVERY_S, out: TrainOutcome | None = None,
    every: int | None = None,
) -> TrainOutcome:  # fmt: skip
    """Train `net` in place on samples xs with targets ys as `plan` says.

    `emit` gets a "progress" event (iteration, epoch, loss, accuracy on the batch for
    a classifier, elapsed) at most every `emit_every_s`, at each epoch's last batch,
    at the last batch and when the run stops early; with `every`, on a batch clock
    instead: after every `every` batches (a curve with a point every `every` batches,
    however fast the run), at the last batch and when the run stops early. `stop` is
    asked after every batch: True cancels the run there (what was learned stays in
    `net`). `out`, if given, is filled as the run goes (so a caller knows how far a
    run that raised got)."""
    out = out if out is not None else TrainOutcome()
    rng = np.random.default_rng(plan.shuffle_seed)
    t0 = last_emit = time.perf_counter()
    order = rng.permutation(plan.samples)
    per_epoch, size = plan.per_epoch, plan.batch_size
    for it in range(plan.iterations):
        epoch, pos = divmod(it, per_epoch)
        if pos == 0 and it:
            order = rng.permutation(plan.samples)
        idx = order[pos * size : (pos + 1) * size]
        with np.errstate(all="ignore"):
            out.loss = net.train_batch(xs[idx], ys[idx], opt)
        out.iterations = it + 1
        now = time.perf_counter()
        if not np.isfinite(out.loss):
            out.status = "diverged"
        elif stop():
            out.status = "cancelled"
        last = it == plan.iterations - 1
        due = (
            (it + 1) % every == 0
            if every
            else (now - last_emit >= emit_every_s or pos == per_epoch - 1)
        )
        if due or last or out.status != "done":
            last_emit = now
            emit(progress_event(it + 1, epoch + 1, out.loss, net, xs[idx], ys[idx], now - t0))
        if out.status != "done":
            break
    out.elapsed = time.perf_counter() - t0
    return out


def progress_event(
    iteration: int, epoch: int, loss: float, net: Sequential, xb: np.ndarray, yb: np.ndarray,
    elapsed: float,
) -> dict[str, Any]:  # fmt: skip
    """A "progress" event; `loss` as a float (NaN and infinities included)."""
    acc = None
    if net.loss_kind in LABEL_LOSSES:  # classes: accuracy is the argmax of the outputs
        with np.errstate(all="ignore"):
            acc = float(net.accuracy(xb, yb))
    return {"event": "progress", "iteration": iteration, "epoch": epoch, "loss": float(loss),
            "accuracy": acc, "elapsed": round(elapsed, 3)}  # fmt: skip


def watching(
    emit: Callable[[dict[str, Any]], None], net: Sequential, names: list[str], every: int,
    last: int,
) -> Callable[[dict[str, Any]], None]:  # fmt: skip
    """`emit`, with the parameters `names` (e.g. "conv1.w") added to a progress event as
    "watch": {name: {"shape": [...], "data": [row-major floats]}}: to the first, then to
    one at least `every` batches after the last that had them, and to iteration `last`."""
    if not names:
        return emit
    carried: list[int] = []  # the iteration of the last event that carried them

    def send(ev: dict[str, Any]) -> None:
        it = ev.get("iteration", 0)
        due = not carried or it - carried[-1] >= every or it == last
        if ev.get("event") == "progress" and due:
            carried[:] = [it]
            params = net.params()
            ev["watch"] = {n: {"shape": list(params[n].shape),
                               "data": params[n].ravel().tolist()} for n in names}  # fmt: skip
        emit(ev)

    return send


def evaluate(net: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) of a classifier `net` on samples x with labels y; the loss of an
    output that is not finite (a diverged run) is NaN."""
    with np.errstate(all="ignore"):
        out = net.predict(x)
        if not np.all(np.isfinite(out)):
            return float("nan"), float(np.mean(np.nan_to_num(out).argmax(axis=1) == y))
        value, _ = net.loss(out, y)
    return float(value), float(np.mean(out.argmax(axis=1) == y))
