"""Training a session's network: the job a training process runs, and its stream.

A request is checked (limits, a target to train on) and the session's network,
weights, optimizer and data are copied under its lock, here in the request;
then the job waits in this worker's fair queue (app/training/queue.py) and runs
in a training process (app/training/child.py, engine.training.train). The
events are plain dicts; the router frames them as Server-Sent Events.
"""

from __future__ import annotations

import functools
import hashlib
import json
import weakref
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from app.limits import at_most, check_training
from app.schemas import TrainRequest
from app.sessions.samples import added_count, training_samples
from app.sessions.service import SessionService
from app.sessions.state import Live, refuse_frozen
from app.training.queue import TrainingQueue
from app.training.runner import CANCEL
from engine.cost import spec_cost
from engine.optim import make_optimizer
from engine.training import TrainPlan

__all__ = ["CANCEL", "TrainingJob", "prepare_training", "start_training"]

# The most numbers the watched parameters of a training may hold (they go out with each
# of up to 250 progress events of a run, app/training/child.py: conv1.w of digits-cnn
# is 108).
WATCH_MAX_NUMBERS = 4096


@dataclass(frozen=True)
class TrainingJob:
    """A checked training request: what the queue needs to know of it, and `snapshot`,
    which copies what the training process needs when its turn comes."""

    sid: str
    snapshot: Callable[[], tuple[dict[str, Any], dict[str, Any]]]  # (job, optimizer)
    kind: str  # the network, data and batch size: trainings alike take alike long
    iterations: int


def prepare_training(service: SessionService, sid: str, req: TrainRequest) -> TrainingJob:
    """Check limits, the data to train on and the cost now (errors are HTTP errors, not
    stream events). The weights are copied when the training starts (`snapshot`), not
    now: a training waits in the queue, and what the student changed meanwhile (weights
    edited, an earlier training saved) is what it must train from."""
    limits = service.limits
    if req.epochs is not None:
        at_most("epochs", req.epochs, limits, "max_epochs")
    if req.iterations is not None:
        at_most("iterations", req.iterations, limits, "max_iterations")
    at_most("batch_size", req.batch_size, limits, "max_batch")
    with service.session(sid) as live:
        refuse_frozen(live)
        spec = live.net.spec()
        optimizer = _optimizer(live, req)
        samples, dataset = _samples(service, live)
        samples += added_count(live)
        check_watch(live, req)
    make_optimizer(optimizer)  # a bad optimizer is a 422 now, not an error event later
    service.store.take_signal(sid, CANCEL)  # a stale cancel must not stop this run
    plan = TrainPlan.of(samples, req.batch_size, req.epochs, req.iterations, 0)
    # its whole cost before it queues: multiply-adds per sample x batch x iterations
    cost = spec_cost(spec, 1, optimizer.get("type", "sgd"))
    check_training(cost, plan.iterations, min(req.batch_size, samples), limits)
    about = json.dumps([spec, dataset, samples, req.batch_size], sort_keys=True, default=str)
    kind = hashlib.blake2b(about.encode(), digest_size=8).hexdigest()
    return TrainingJob(sid, functools.partial(_snapshot, service, sid, req), kind, plan.iterations)


def check_watch(live: Live, req: TrainRequest) -> None:
    """The watched parameters: names of this network's, WATCH_MAX_NUMBERS at most."""
    params = live.net.params()
    unknown = [n for n in req.watch or () if n not in params]
    if unknown:
        raise ValueError(
            f"watch: {', '.join(unknown)} is not a parameter of this network; its "
            f"parameters are {', '.join(params)}"
        )
    numbers = sum(params[n].size for n in set(req.watch or ()))
    if numbers > WATCH_MAX_NUMBERS:
        raise ValueError(
            f"watch: {', '.join(req.watch or ())} hold {numbers} numbers; a progress event "
            f"carries at most {WATCH_MAX_NUMBERS}"
        )


def _optimizer(live: Live, req: TrainRequest) -> dict[str, Any]:
    return req.optimizer.model_dump(exclude_none=True) if req.optimizer else live.meta["optimizer"]


def _samples(service: SessionService, live: Live) -> tuple[int, str | None]:
    """How many samples the session trains on, and its dataset's name (None: its input)."""
    data = service.dataset(live)
    if data is not None:
        return len(data.x_train), data.name
    if live.run.target is not None:  # it trains on its one input and that input's target
        return len(live.run.x), None
    raise ValueError(
        "this session trains on its input, which has no target: give one first "
        f"(PUT /api/sessions/{live.id}/target)"
    )


def _snapshot(
    service: SessionService, sid: str, req: TrainRequest
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job for the training process, from the session as it is now (its turn)."""
    with service.session(sid) as live:
        _, dataset = _samples(service, live)
        optimizer = _optimizer(live, req)
        x = y = None
        if dataset is None:  # the process loads a dataset by name (as a rebuild does)
            x, y = live.run.x.copy(), live.run.target.copy()  # type: ignore[union-attr]
        job = {"spec": live.net.spec(), "optimizer": optimizer, "dataset": dataset,
               "params": {k: v.copy() for k, v in live.net.params().items()},
               "x": x, "y": y, "batch_size": req.batch_size, "epochs": req.epochs,
               "iterations": req.iterations,
               # A page that trains an epoch per request must not see the same batch
               # order every time: the shuffle is seeded by the runs saved so far.
               "shuffle_seed": live.meta.get("train_runs", 0),
               "watch": list(dict.fromkeys(req.watch or ())), "watch_every": req.watch_every,
               **training_samples(live)}  # fmt: skip
    return job, optimizer


def start_training(queue: TrainingQueue, job: TrainingJob) -> AsyncGenerator[dict[str, Any], None]:
    """Queue the job (QueueFull at the queue's bound) and return its event stream:
    "queued"... while it waits, then start, progress..., and done | diverged |
    cancelled | error. Call it in the request's event loop."""
    ticket = queue.submit(job.sid, job.snapshot, {}, job.kind, job.iterations)
    events = queue.stream(ticket)
    # A client that leaves before the first event never starts the generator, so its
    # `finally` never runs: the ticket leaves the queue when the generator is collected.
    weakref.finalize(events, queue.leave, ticket)
    return events
