"""Training a session's network: the job a training process runs, and its stream.

A request is checked (limits, a target to train on) and the session's network,
weights, optimizer and data are copied under its lock, here in the request;
then the job waits in this worker's fair queue (app/training/queue.py) and runs
in a training process (app/training/child.py, engine.training.train). The
events are plain dicts; the router frames them as Server-Sent Events.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from app.limits import at_most
from app.schemas import TrainRequest
from app.sessions.service import SessionService
from app.training.queue import TrainingQueue
from app.training.runner import CANCEL
from engine.optim import make_optimizer
from engine.training import TrainPlan

__all__ = ["CANCEL", "TrainingJob", "prepare_training", "start_training"]


@dataclass(frozen=True)
class TrainingJob:
    """What a training process needs (`job`), and what the queue needs to know of it."""

    sid: str
    job: dict[str, Any]
    optimizer: dict[str, Any]
    kind: str  # the network, data and batch size: trainings alike take alike long
    iterations: int


def prepare_training(service: SessionService, sid: str, req: TrainRequest) -> TrainingJob:
    """Check limits and copy what the training needs (so errors are HTTP errors, not
    stream events, and later steps of the session do not change it)."""
    limits = service.limits
    if req.epochs is not None:
        at_most("epochs", req.epochs, limits, "max_epochs")
    if req.iterations is not None:
        at_most("iterations", req.iterations, limits, "max_iterations")
    at_most("batch_size", req.batch_size, limits, "max_batch")
    with service.session(sid) as live:
        spec = live.net.spec()
        params = {k: v.copy() for k, v in live.net.params().items()}
        optimizer = (
            req.optimizer.model_dump(exclude_none=True) if req.optimizer else live.meta["optimizer"]
        )
        data = service.dataset(live)
        x = y = None
        if data is not None:  # the process loads it by name (as a rebuild does)
            samples = len(data.x_train)
        elif live.run.target is not None:  # it trains on its one input and that input's target
            x, y = live.run.x.copy(), live.run.target.copy()
            samples = len(x)
        else:
            raise ValueError(
                "this session trains on its input, which has no target: give one first "
                f"(PUT /api/sessions/{sid}/target)"
            )
        # A page that trains an epoch per request must not see the same batch order
        # every time: the shuffle is seeded by how many runs this session has saved.
        shuffle_seed = live.meta.get("train_runs", 0)
    make_optimizer(optimizer)  # a bad optimizer is a 422 now, not an error event later
    service.store.take_signal(sid, CANCEL)  # a stale cancel must not stop this run
    dataset = data.name if data is not None else None
    plan = TrainPlan.of(samples, req.batch_size, req.epochs, req.iterations, shuffle_seed)
    job = {"spec": spec, "params": params, "optimizer": optimizer, "dataset": dataset,
           "x": x, "y": y, "batch_size": req.batch_size, "epochs": req.epochs,
           "iterations": req.iterations, "shuffle_seed": shuffle_seed}  # fmt: skip
    about = json.dumps([spec, dataset, samples, req.batch_size], sort_keys=True, default=str)
    kind = hashlib.blake2b(about.encode(), digest_size=8).hexdigest()
    return TrainingJob(sid, job, optimizer, kind, plan.iterations)


def start_training(queue: TrainingQueue, job: TrainingJob) -> AsyncGenerator[dict[str, Any], None]:
    """Queue the job (QueueFull at the queue's bound) and return its event stream:
    "queued"... while it waits, then start, progress..., and done | diverged |
    cancelled | error. Call it in the request's event loop."""
    ticket = queue.submit(job.sid, job.job, job.optimizer, job.kind, job.iterations)
    events = queue.stream(ticket)
    # A client that leaves before the first event never starts the generator, so its
    # `finally` never runs: the ticket leaves the queue when the generator is collected.
    weakref.finalize(events, queue.leave, ticket)
    return events
