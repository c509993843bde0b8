"""Several learning rates side by side: one copy of a BP network per rate, all from
the same initial weights and the same batch order, with their per-epoch loss and
accuracy on train and test and a divergence flag.

The request is checked here (limits, before any work); the training runs in this
worker's training processes (app/training/compare_job.py), waiting its turn in
the same fair queue as trainings, so it never holds a request thread or the
worker's GIL while steps wait. A client that leaves cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import uuid
from typing import Any

from starlette.requests import Request

from app.encoding import json_number
from app.limits import at_most
from app.schemas.bp import BPCompare
from app.sessions.bp import check_hidden, dataset_of, network_spec
from app.settings import Limits
from app.training.compare_job import DIVERGED_FACTOR
from app.training.queue import FINAL, Ticket, TrainingQueue
from app.training.runner import COMPARE

__all__ = ["DIVERGED_FACTOR", "CompareFailed", "compare", "prepare"]
DISCONNECT_POLL_S = 0.25  # how often a waiting compare asks whether its client is there


class CompareFailed(RuntimeError):
    """The training process could not finish the compare (it died, or failed)."""


def prepare(req: BPCompare, limits: Limits) -> tuple[dict[str, Any], str, int]:
    """Check the request against the limits and make its job: (job, kind, iterations)."""
    check_hidden(req, limits)
    at_most("lrs (runs)", len(req.lrs), limits, "max_compare_runs")
    at_most("epochs", req.epochs, limits, "max_epochs")
    at_most("batch_size", req.batch_size, limits, "max_batch")
    data = dataset_of(req)
    batches = math.ceil(len(data.y_train) / req.batch_size)
    at_most("iterations per run (epochs x batches)", req.epochs * batches, limits, "max_iterations")
    spec = network_spec(req, data)
    iterations = len(req.lrs) * req.epochs * batches
    job = {"kind": "compare", "spec": spec, "seed": req.seed, "lrs": list(req.lrs),
           "epochs": req.epochs, "batch_size": req.batch_size, "optimizer": req.optimizer,
           "dataset": {"name": req.dataset, "noise": req.noise, "seed": req.seed},
           "iterations": iterations}  # fmt: skip
    about = json.dumps(["compare", spec, req.dataset, req.batch_size], sort_keys=True)
    kind = hashlib.blake2b(about.encode(), digest_size=8).hexdigest()
    return job, kind, iterations


def answer(job: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The response body: the network, and each run's curves (NaN and infinities as
    the strings every payload sends)."""
    runs = [{k: [json_number(v) for v in vs] if isinstance(vs, list) else vs
             for k, vs in run.items()} for run in result["runs"]]  # fmt: skip
    return {"dataset": result["dataset"], "network": job["spec"], "epochs": job["epochs"],
            "runs": runs}  # fmt: skip


async def compare(
    queue: TrainingQueue, job: dict[str, Any], kind: str, iterations: int, request: Request
) -> dict[str, Any] | None:
    """Queue the compare and wait for it; None if the client left first (its job is
    cancelled: out of the queue, or stopped after the current batch). QueueFull when
    the worker's queue is full; CompareFailed if the training process failed."""
    ticket = queue.submit(f"{COMPARE}{uuid.uuid4().hex}", job, {}, kind, iterations)
    try:
        final = await _final(ticket, request)
    finally:
        queue.leave(ticket)  # a no-op once it is over
    if final is None:
        return None
    if final["event"] != "done":
        raise CompareFailed(final.get("detail", "compare stopped"))
    return answer(job, final["result"])


async def _final(ticket: Ticket, request: Request) -> dict[str, Any] | None:
    while True:
        ticket.wake.clear()
        while ticket.events:
            event = ticket.events.popleft()
            if event["event"] in FINAL:
                return event
        if await request.is_disconnected():
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ticket.wake.wait(), DISCONNECT_POLL_S)
