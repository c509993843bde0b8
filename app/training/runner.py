"""A runner: the thread of a worker that owns one training process.

It takes tickets from the queue, sends each job to its process, relays the
process's events to the ticket's stream, reads the session's cancel flag every
CANCEL_POLL_S (a DELETE may reach another worker), and saves the weights the
process sends back with service.save_weights, whether or not the client is
still there (a client that went away keeps what was learned). A process that
dies gives the ticket an "error" event and is replaced at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from app.encoding import json_number
from app.i18n import coded_body
from app.metrics import TRAINING_PROCESS_DEATHS, TRAINING_PROCESSES
from app.training.process import ProcessDied, TrainingProcess

if TYPE_CHECKING:
    from app.training.queue import Ticket, TrainingQueue

log = logging.getLogger(__name__)
CANCEL = "cancel-train"  # the store flag DELETE /api/sessions/{id}/train raises
CANCEL_POLL_S = 0.25
COMPARE = "compare:"  # a compare's ticket (no session) has a sid starting so


def public(event: dict[str, Any]) -> dict[str, Any]:
    """A training process's event as the stream sends it: its loss through
    json_number (NaN and infinities as strings, as every payload sends them)."""
    if "loss" in event:
        event["loss"] = json_number(event["loss"])
    for watched in event.get("watch", {}).values():  # a diverged run's NaN weights
        watched["data"] = [json_number(v) for v in watched["data"]]
    return event


def stopping_event(sid: str, started: bool) -> dict[str, Any]:
    """A stream's last event when the server stops: a coded message a page shows in
    its student's language (error.server_stopping[_waiting] in app/locales). A training
    that `started` stopped after its batch and kept what it learned (the runner adds
    its loss and elapsed time); one that waited never ran."""
    if sid.startswith(COMPARE):
        detail = "compare stopped: the server is stopping"
    elif started:
        detail = "training stopped: the server is stopping; what it learned is kept"
    else:
        detail = "training not started: the server is stopping; train again in a moment"
    code = "server_stopping" if started else "server_stopping_waiting"
    return {"event": "stopping", **coded_body(code, detail), "started": started}


class Runner:
    """One training process and the thread that feeds it."""

    def __init__(self, queue: TrainingQueue, nice: int, index: int) -> None:
        self.queue = queue
        self.proc = TrainingProcess(nice)
        self.ticket: Ticket | None = None  # set by the queue (under its lock)
        self.counted = False  # in the processes gauge
        self.thread = threading.Thread(target=self._run, name=f"glassbox-train-{index}",
                                       daemon=True)  # fmt: skip

    def _run(self) -> None:
        # The process starts with the first training (about 0.2 s, once), not with
        # the worker: most app instances (a test's, a worker no student trains on)
        # never train, and each process costs a core's 0.2 s and 40 MB.
        while (ticket := self.queue.next_ticket(self)) is not None:
            t0, iterations = time.monotonic(), 0
            try:
                iterations = self.serve(ticket)
            except Exception as exc:  # a bug here must not stop the runner or hang the stream
                log.exception("training session %s failed", ticket.sid)
                ticket.push({"event": "error", "detail": f"training stopped: {exc}"})
            finally:
                self.queue.finished(self, ticket, time.monotonic() - t0, iterations)
        self.proc.stop()
        self._uncount()

    def ensure_process(self) -> bool:
        """A live process, started if need be; False if it would not start (or the
        queue is closing: no new process while the server stops)."""
        if self.proc.alive:
            return True
        if self.queue.closed:
            return False
        try:
            self.proc.start()
        except (ProcessDied, OSError) as exc:
            log.error("could not start a training process: %s", exc)
            return False
        if not self.counted:
            self.counted = True
            TRAINING_PROCESSES.inc()
        return True

    def _uncount(self) -> None:
        if self.counted:
            self.counted = False
            TRAINING_PROCESSES.dec()

    def signalled(self, sid: str) -> bool:
        """Take the session's cancel flag; False if the store cannot say (or there is
        no session: a compare, whose client cancels it by leaving)."""
        if sid.startswith(COMPARE):
            return False
        try:
            return self.queue.service.store.take_signal(sid, CANCEL)
        except Exception:  # an outage is counted by the store; the training goes on
            return False

    def serve(self, ticket: Ticket) -> int:
        """Run one ticket to its end; returns the iterations it ran."""
        if self.signalled(ticket.sid):  # cancelled while it waited, via another worker
            ticket.push({"event": "cancelled", "loss": None, "elapsed": 0.0})
            return 0
        if not self.ensure_process():
            detail = "training stopped: the training process would not start"
            ticket.push({"event": "error", "detail": detail})
            return 0
        checked = time.monotonic()
        try:
            ticket.take_snapshot()  # the session as it is now, not as when it queued
            self.proc.send(("job", ticket.job))
            if ticket.stop:  # the client left (or cancelled) as the job was handed over
                self.proc.cancel(ticket.id)
            while True:
                if time.monotonic() - checked >= CANCEL_POLL_S:
                    checked = time.monotonic()
                    if not ticket.stop and self.signalled(ticket.sid):
                        self.queue.cancel(ticket.sid)  # this one, and any waiting here
                msg = self.proc.recv(CANCEL_POLL_S)
                if msg is None:
                    continue
                kind, body = msg
                if kind == "event":
                    if body["event"] == "progress":
                        ticket.done = body["iteration"]
                    ticket.push(public(body))
                elif kind in ("result", "failed") and body["id"] == ticket.id:
                    self._finish(ticket, kind, body)
                    return int(body["iterations"])
        except (ProcessDied, OSError) as exc:
            what = str(exc) if isinstance(exc, ProcessDied) else self.proc.death()
            self._replace(what)
            ticket.push({"event": "error", "detail": f"training stopped: {what}; nothing it "
                         "learned was kept: train again"})  # fmt: skip
            return 0

    def _replace(self, what: str) -> None:
        log.warning("%s (pid %s); starting another", what, self.proc.pid)
        TRAINING_PROCESS_DEATHS.inc()
        self._uncount()
        self.proc.stop()
        self.ensure_process()

    def _finish(self, ticket: Ticket, kind: str, body: dict[str, Any]) -> None:
        """Save what the process learned, then the stream's final event."""
        if ticket.sid.startswith(COMPARE):  # nothing to save: the result is the answer
            if kind == "result":
                ticket.push({"event": "done", "result": body["compare"]})
            elif ticket.stopping:
                ticket.push(stopping_event(ticket.sid, started=True))
            else:
                ticket.push({"event": "error", "detail": f"compare stopped: {body['detail']}"})
            return
        t0 = time.perf_counter()
        error: str | None = body["detail"] if kind == "failed" else None
        if kind == "failed":
            log.error("training session %s failed: %s", ticket.sid, error)
        if body["params"] is not None:
            try:
                self.queue.service.save_weights(ticket.sid, body["params"], ticket.optimizer)
            except Exception as exc:  # e.g. the session was deleted meanwhile
                if not ticket.stop:
                    log.exception("training session %s: saving its weights failed", ticket.sid)
                error = error or f"{exc}"
        if error is not None:
            ticket.push({"event": "error", "detail": f"training stopped: {error}"})
            return
        final = public(dict(body["final"]))
        final["elapsed"] = round(final["elapsed"] + time.perf_counter() - t0, 3)
        with contextlib.suppress(KeyError, TypeError):
            final["test_accuracy"] = float(final["test_accuracy"])
        if ticket.stopping and final["event"] == "cancelled":  # stopped by the server's stop
            final.update(stopping_event(ticket.sid, started=True))
        ticket.push(final)
