"""Training a session's network, reported as a stream of progress events.

Runs in a bounded number of slots per worker (settings.train_workers), so one
student's long training cannot take every thread that steps other sessions.
The events are plain dicts; the router frames them as Server-Sent Events.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.encoding import json_number
from app.limits import at_most
from app.metrics import TRAININGS_REFUSED, TRAININGS_RUNNING
from app.schemas import TrainRequest
from app.sessions.service import SessionService
from engine.models import model_from_spec
from engine.network import LABEL_LOSSES, Sequential
from engine.optim import make_optimizer

log = logging.getLogger(__name__)
CANCEL = "cancel-train"
EMIT_EVERY_S = 0.1
CHECK_CANCEL_EVERY_S = 0.25


class TrainingBusy(RuntimeError):
    """Every training slot of this worker is taken."""


def start_training(
    service: SessionService, sid: str, req: TrainRequest
) -> Iterator[dict[str, Any]]:
    """Check limits and take a slot now (so errors are HTTP errors, not stream
    events), then return the event stream that trains."""
    limits = service.limits
    if req.epochs is not None:
        at_most("epochs", req.epochs, limits, "max_epochs")
    if req.iterations is not None:
        at_most("iterations", req.iterations, limits, "max_iterations")
    at_most("batch_size", req.batch_size, limits, "max_batch")
    with service.session(sid) as live:
        net = model_from_spec(live.net.spec())
        net.set_params({k: v.copy() for k, v in live.net.params().items()})
        spec = (
            req.optimizer.model_dump(exclude_none=True) if req.optimizer else live.meta["optimizer"]
        )
        data = service.dataset(live)
        if data is not None:
            xs, ys = data.x_train, data.y_train
        elif live.run.target is not None:  # it trains on its one input and that input's target
            xs, ys = live.run.x, live.run.target
        else:
            raise ValueError(
                "this session trains on its input, which has no target: give one first "
                f"(PUT /api/sessions/{sid}/target)"
            )
        # A page that trains an epoch per request must not see the same batch order
        # every time: the shuffle is seeded by how many runs this session has saved.
        shuffle_seed = live.meta.get("train_runs", 0)
    opt = make_optimizer(spec)
    service.store.take_signal(sid, CANCEL)  # a stale cancel must not stop this run
    if not service.train_slots.acquire(blocking=False):
        TRAININGS_REFUSED.inc()
        raise TrainingBusy(
            f"all training slots of this worker are busy (train_workers = "
            f"{service.settings.train_workers}); try again when a training ends"
        )
    slot = _Slot(service.train_slots)
    events = _events(service, sid, req, net, opt, spec, data, xs, ys, slot, shuffle_seed)
    # A client that leaves before the first event never starts the generator, so its
    # `finally` never runs: release the slot when the generator is collected.
    weakref.finalize(events, slot.release)
    return events


class _Slot:
    """One taken training slot, released exactly once."""

    def __init__(self, semaphore: threading.BoundedSemaphore) -> None:
        self.semaphore, self.held = semaphore, True
        self.lock = threading.Lock()
        TRAININGS_RUNNING.inc()

    def release(self) -> None:
        with self.lock:
            if self.held:
                self.held = False
                self.semaphore.release()
                TRAININGS_RUNNING.dec()


def _events(
    service: SessionService, sid: str, req: TrainRequest, net: Sequential, opt: Any,
    spec: dict[str, Any], data: Any, xs: np.ndarray, ys: np.ndarray, slot: _Slot,
    shuffle_seed: int,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Train on samples xs with targets ys (a dataset's, or the session's one input)."""
    saved = False
    learned = False  # nothing to keep (and no pass to reset) before the first batch
    try:
        n = len(xs)
        per_epoch = max(1, math.ceil(n / req.batch_size))
        total = req.iterations or per_epoch * (req.epochs or 1)
        yield {"event": "start", "iterations": total, "samples": n, "batch_size": req.batch_size,
               "optimizer": spec, "dataset": data.name if data is not None else None,
               "shuffle_seed": shuffle_seed}  # fmt: skip
        rng = np.random.default_rng(shuffle_seed)
        t0 = last_emit = last_check = time.perf_counter()
        order = rng.permutation(n)
        status, loss = "done", float("nan")
        for it in range(total):
            epoch, pos = divmod(it, per_epoch)
            if pos == 0 and it:
                order = rng.permutation(n)
            idx = order[pos * req.batch_size : (pos + 1) * req.batch_size]
            with np.errstate(all="ignore"):
                loss = net.train_batch(xs[idx], ys[idx], opt)
            learned = True
            now = time.perf_counter()
            last = it == total - 1
            if not np.isfinite(loss):
                status = "diverged"
            if now - last_check >= CHECK_CANCEL_EVERY_S:
                last_check = now
                if service.store.take_signal(sid, CANCEL):
                    status = "cancelled"
            if now - last_emit >= EMIT_EVERY_S or last or pos == per_epoch - 1 or status != "done":
                last_emit = now
                yield _progress(it + 1, epoch + 1, loss, net, xs[idx], ys[idx], now - t0)
            if status != "done":
                break
        service.save_weights(sid, net.params(), spec)
        saved = True
        final: dict[str, Any] = {"event": status, "loss": json_number(loss),
                                 "elapsed": round(time.perf_counter() - t0, 3)}  # fmt: skip
        if data is not None and net.loss_kind in LABEL_LOSSES:
            with np.errstate(all="ignore"):
                final["test_accuracy"] = net.accuracy(data.x_test, data.y_test)
            if data.classes:  # what guessing a class at random scores
                final["chance"] = 1 / len(data.classes)
        yield final
    except Exception as exc:  # the response has started: report it as an event, not a 500
        log.exception("training session %s failed", sid)
        yield {"event": "error", "detail": f"training stopped: {exc}"}
    finally:
        if learned and not saved:  # the client went away: keep what was learned so far
            with contextlib.suppress(Exception):  # the session may be gone: nothing to keep
                service.save_weights(sid, net.params(), spec)
        slot.release()


def _progress(
    iteration: int, epoch: int, loss: float, net: Sequential, xb: np.ndarray, yb: np.ndarray,
    elapsed: float,
) -> dict[str, Any]:  # fmt: skip
    acc = None
    if net.loss_kind in LABEL_LOSSES:  # classes: accuracy is the argmax of the outputs
        with np.errstate(all="ignore"):
            acc = float(net.accuracy(xb, yb))
    return {"event": "progress", "iteration": iteration, "epoch": epoch, "loss": json_number(loss),
            "accuracy": acc, "elapsed": round(elapsed, 3)}  # fmt: skip
