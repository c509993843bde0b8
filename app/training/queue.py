"""A fair training queue per worker, served by its training processes.

A training request becomes a Ticket. Each of the worker's `train_workers`
runners (a thread that owns one training process) takes the oldest ticket whose
session has no training running: first come first served across sessions, one
running training per session, and a session's next request (the BP page trains
one epoch per request) joins at the back. The request's stream (an async
generator: a waiting training holds no thread) sends "queued" events while it
waits, then relays the process's events; the runner saves the weights.

When the server is told to stop (SIGTERM, Ctrl-C: signals.py hears it before uvicorn
starts its graceful shutdown), `stopping()` ends every stream with a "stopping" event
while uvicorn still waits for them: a waiting training at once, a running one after
its current batch, once what it learned is saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.metrics import TRAINING_QUEUE, TRAINING_WAIT, TRAININGS_RUNNING
from app.training.estimate import Rates, expected_starts, remaining
from app.training.runner import Runner, stopping_event
from app.training.signals import on_stop_signal

if TYPE_CHECKING:
    from app.sessions.service import SessionService
    from app.settings import Settings

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0  # a waiting stream hears from the server at least this often
PLACE_EVERY_S = 0.5  # ... and is told of a new place within this (not at each move:
# with hundreds waiting, one event per stream per move would be a storm)
WATCH_PER_S = 20.0  # store reads a second, at most, for cancels of queued trainings
FINAL = frozenset({"done", "diverged", "cancelled", "error", "stopping"})
Snapshot = Callable[[], tuple[dict[str, Any], dict[str, Any]]]
_ids = itertools.count(1)


class QueueFull(RuntimeError):
    """This worker already has `train_queue_max` trainings waiting."""


@dataclass(eq=False)
class Ticket:
    """One training request: its job, its place, and the events for its stream."""

    sid: str
    job: dict[str, Any]  # what the training process gets (see child.py)
    optimizer: dict[str, Any]  # saved with the weights
    kind: str  # trainings of one kind take about as long per iteration
    iterations: int
    loop: asyncio.AbstractEventLoop
    id: int = field(default_factory=lambda: next(_ids))
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    events: deque[dict[str, Any]] = field(default_factory=deque)
    state: str = "queued"  # then "running", then "over"
    enqueued_at: float = field(default_factory=time.monotonic)
    started_at: float = 0.0
    done: int = 0  # iterations run so far (from its progress events)
    stop: bool = False  # asked to stop: cancelled, or its client left
    stopping: bool = False  # ... because the server is stopping (its last event says so)
    ended: bool = False  # its final event is out
    runner: Runner | None = None
    snapshot: Snapshot | None = None  # makes (job, optimizer) when the ticket starts

    def take_snapshot(self) -> None:
        """Copy what the training needs from its session now, at its turn."""
        if self.snapshot is not None:
            self.job, self.optimizer = self.snapshot()
            self.job["id"] = self.id

    def push(self, event: dict[str, Any]) -> None:
        """An event for the stream (from any thread)."""
        self.ended = self.ended or event["event"] in FINAL
        self.events.append(event)
        self.notify()

    def notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody listens
            self.loop.call_soon_threadsafe(self.wake.set)


class TrainingQueue:
    """This worker's training queue and training processes."""

    def __init__(self, service: SessionService, settings: Settings) -> None:
        self.service = service
        self.max_queued = settings.train_queue_max
        self.changed = threading.Condition()  # guards everything below
        self.waiting: list[Ticket] = []
        self.running: dict[int, Ticket] = {}
        self.rates = Rates()
        self.runners = [Runner(self, settings.train_nice, i) for i in range(settings.train_workers)]
        self.idle = list(self.runners)
        self.started = self.closed = False
        self.draining = False  # the server is stopping: no training starts any more
        self.version = 0  # of the waiting list: places are worked out once per change
        self._places: dict[int, tuple[int, float | None]] = {}
        self._places_at = (-1, 0.0)  # (version, time) they were worked out

    def start(self) -> None:
        """Start the runners (threads; each starts its process at its first training)."""
        with self.changed:
            if self.started or self.closed:
                return
            self.started = True
        for runner in self.runners:
            runner.thread.start()
        threading.Thread(target=self._watch, name="glassbox-train-watch", daemon=True).start()
        on_stop_signal(self.stopping)  # in uvicorn's process: told when it is told to stop

    def stopping(self) -> None:
        """The server is stopping (uvicorn lets open requests finish, for up to
        GLASSBOX_STOP_GRACE_S): no training starts any more; waiting ones end at once,
        running ones stop after their current batch and keep what they learned; each
        stream's last event is "stopping" (stopping_event)."""
        with self.changed:
            if self.closed:
                return
            self.draining = True
            gone, self.waiting = self.waiting, []
            running = list(self.running.values())
            for ticket in running:
                ticket.stopping = True
            self._moved()
        for ticket in gone:
            ticket.state = "over"
            ticket.push(stopping_event(ticket.sid, started=False))
        for ticket in running:
            self._stop(ticket)
        self._gauges()

    def close(self) -> None:
        """Stop (the app's shutdown, after stopping()): what still waits ends, what
        still runs is cancelled (what it learned is saved), then the processes stop."""
        self.stopping()
        with self.changed:
            self.closed = True
            self.changed.notify_all()
        for runner in self.runners:
            if runner.thread.is_alive():
                runner.thread.join(10)
        self._gauges()

    # --- requests ----------------------------------------------------------------------
    def submit(self, sid: str, job: dict[str, Any] | Snapshot, optimizer: dict[str, Any],
               kind: str, iterations: int) -> Ticket:  # fmt: skip
        """Queue a training (QueueFull at the bound); it starts at once if it can. `job`
        is what the process gets, or what makes it (and the optimizer) at its turn.
        Once the server is stopping, the ticket is over at once: its stream's only
        event is "stopping" (the request came through a connection open before); once
        it has shut down, QueueFull."""
        self.start()
        loop = asyncio.get_running_loop()
        if callable(job):
            ticket = Ticket(sid, {}, optimizer, kind, iterations, loop, snapshot=job)
        else:
            ticket = Ticket(sid, job, optimizer, kind, iterations, loop)
            ticket.job["id"] = ticket.id
        with self.changed:
            if self.closed:  # the app has shut down (in-process use after its lifespan)
                raise QueueFull("the server is stopping; train again in a moment")
            stopping = self.draining
            if stopping:
                ticket.state = "over"
            elif len(self.waiting) >= self.max_queued:
                raise QueueFull(
                    f"{len(self.waiting)} trainings are waiting in this worker, the most "
                    f"train_queue_max = {self.max_queued} allows; try again in a minute"
                )
            else:
                self.waiting.append(ticket)
                self._moved()  # the watcher has a session to watch
                self._dispatch()
        if stopping:
            ticket.push(stopping_event(sid, started=False))
        self._gauges()
        return ticket

    def cancel(self, sid: str) -> bool:
        """Cancel this worker's trainings of a session: a waiting one ends at once
        ("cancelled", never started), a running one after its current batch."""
        with self.changed:
            queued = [t for t in self.waiting if t.sid == sid]
            running = [t for t in self.running.values() if t.sid == sid]
            for ticket in queued:
                self.waiting.remove(ticket)
                ticket.state = "over"
            if queued:
                self._moved()
        for ticket in queued:
            ticket.push({"event": "cancelled", "loss": None, "elapsed": 0.0})
        for ticket in running:
            self._stop(ticket)
        self._gauges()
        return bool(queued or running)

    def busy(self, sid: str) -> bool:
        """Whether this worker has a training of the session waiting or running."""
        with self.changed:
            return any(t.sid == sid for t in (*self.waiting, *self.running.values()))

    def leave(self, ticket: Ticket) -> None:
        """The stream ended (its client may have gone): a waiting ticket leaves the
        queue; a running one is cancelled (the runner keeps what it learned)."""
        with self.changed:
            if ticket.state == "queued":
                self.waiting.remove(ticket)
                ticket.state = "over"
                self._moved()
        if ticket.state == "running" and not ticket.ended:
            self._stop(ticket)
        self._gauges()

    def _stop(self, ticket: Ticket) -> None:
        ticket.stop = True
        if ticket.runner is not None:
            ticket.runner.proc.cancel(ticket.id)

    async def stream(self, ticket: Ticket) -> AsyncGenerator[dict[str, Any], None]:
        """The ticket's events: "queued" while it waits (when its place changes, and
        every HEARTBEAT_S), then the training's, to the final one."""
        place, sent_at = None, 0.0
        try:
            while True:
                ticket.wake.clear()  # before reading, so no wake-up is lost
                while ticket.events:
                    event = ticket.events.popleft()
                    yield event
                    if event["event"] in FINAL:
                        return
                queued = self.status(ticket)
                if queued is not None and (
                    queued["position"] != place or time.monotonic() - sent_at >= HEARTBEAT_S
                ):
                    place, sent_at = queued["position"], time.monotonic()
                    yield queued
                    continue
                wait = PLACE_EVERY_S if queued else HEARTBEAT_S
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ticket.wake.wait(), max(0.01, wait))
        finally:
            self.leave(ticket)

    def status(self, ticket: Ticket) -> dict[str, Any] | None:
        """A waiting ticket's "queued" event; None once it is not waiting."""
        with self.changed:
            if ticket.state != "queued":
                return None
            place, estimate = self._place(ticket)
            return {"event": "queued", "position": place,
                    "expected_start_s": None if estimate is None else round(estimate, 1),
                    "running": len(self.running), "queued": len(self.waiting)}  # fmt: skip

    def _place(self, ticket: Ticket) -> tuple[int, float | None]:
        """(position, expected start) of a waiting ticket: every ticket's, worked out
        at most once per change of the queue (or PLACE_EVERY_S, as running trainings
        progress), so hundreds of waiting streams cost one pass (lock held)."""
        now = time.monotonic()
        version, at = self._places_at
        if version != self.version or now - at >= PLACE_EVERY_S or ticket.id not in self._places:
            free_in: list[float | None] = []
            for runner in self.runners:
                t = runner.ticket
                rate = None if t is None else self.rates.per_iteration(t.kind)
                free_in.append(
                    0.0 if t is None else remaining(t.iterations, t.done, now - t.started_at, rate)
                )
            durations = [self.rates.duration(t.kind, t.iterations) for t in self.waiting]
            starts = expected_starts(free_in, durations)
            self._places = {t.id: (i + 1, starts[i]) for i, t in enumerate(self.waiting)}
            self._places_at = (self.version, now)
        return self._places[ticket.id]

    # --- runners -----------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Give idle runners the oldest tickets whose sessions are not training (the
        lock is held)."""
        moved = False
        while self.idle and not (self.closed or self.draining):
            busy = {t.sid for t in self.running.values()}
            ticket = next((t for t in self.waiting if t.sid not in busy), None)
            if ticket is None:
                break
            self.waiting.remove(ticket)
            runner = self.idle.pop(0)
            ticket.state, ticket.runner = "running", runner
            ticket.started_at = time.monotonic()
            self.running[ticket.id] = ticket
            runner.ticket = ticket
            TRAINING_WAIT.observe(ticket.started_at - ticket.enqueued_at)
            moved = True
        if moved:
            self._moved()

    def _moved(self) -> None:
        """The waiting list changed: wake the runners and the watcher (lock held). The
        waiting streams look at their places every PLACE_EVERY_S."""
        self.version += 1
        self.changed.notify_all()

    def finished(self, runner: Runner, ticket: Ticket, seconds: float, iterations: int) -> None:
        """A runner is done with a ticket: `iterations` ran in `seconds`, all told."""
        with self.changed:
            self.running.pop(ticket.id, None)
            ticket.state = "over"
            runner.ticket = None
            self.idle.append(runner)
            self.rates.add(ticket.kind, seconds, iterations)
            self.version += 1  # a process is free: the estimates change
            self._dispatch()
        self._gauges()

    def next_ticket(self, runner: Runner) -> Ticket | None:
        """Block until the runner has a ticket; None once the queue is closed."""
        with self.changed:
            self.changed.wait_for(lambda: runner.ticket is not None or self.closed)
            return runner.ticket

    def _gauges(self) -> None:
        with self.changed:  # read and set together: a racing change cannot leave them stale
            TRAINING_QUEUE.set(len(self.waiting))
            TRAININGS_RUNNING.set(len(self.running))

    def _watch(self) -> None:
        """Cancels of waiting trainings asked of another worker (DELETE reached it):
        each waiting session's flag is read in turn, at most WATCH_PER_S a second and
        each about once a second."""
        turn = 0
        while True:
            with self.changed:
                self.changed.wait_for(lambda: bool(self.waiting) or self.closed)
                if self.closed:
                    return
                sids = list(dict.fromkeys(t.sid for t in self.waiting))
            sid = sids[turn % len(sids)]
            turn += 1
            if self.runners[0].signalled(sid):
                self.cancel(sid)
            time.sleep(max(1 / WATCH_PER_S, 1 / len(sids)))
