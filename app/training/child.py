"""A training process: receives jobs on a pipe, trains, sends events and weights back.

Started by process.py as `python -m app.training.child FD NICE` (FD: its end of a
socket pair). It imports NumPy and the engine only, after pinning BLAS to one
thread (the app package's __init__ pins it too, with setdefault); it lowers
its own CPU priority (os.nice) so that steps, which run in the uvicorn workers,
get a core first whenever both want one.

A job is a training (a session's network, runner.py) or, with "kind": "compare",
learning rates side by side (compare_job.py; its result carries "compare").
Messages, parent to child: ("job", Job dict), ("cancel", job id), ("stop",).
Child to parent: ("ready", {pid, nice, blas_threads}) once, then per job
("event", start or progress event) ... and ("result", {...}) or ("failed", {...}).
"""

from __future__ import annotations

import os

# Before NumPy loads its BLAS (the parent sets the same; this process may be
# started from a parent whose environment says otherwise).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from typing import Any  # noqa: E402

from app.training.compare_job import Stopped, run_compare  # noqa: E402
from engine.data import load_split  # noqa: E402
from engine.models import model_from_spec  # noqa: E402
from engine.network import LABEL_LOSSES  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.runtime import tune_allocator  # noqa: E402
from engine.training import TrainOutcome, TrainPlan, train, watching  # noqa: E402

# A run that watches parameters sends a progress event (and them) every `watch_every`
# batches, but at most this many in all: the stream stays small however long the run.
MAX_WATCHED_EVENTS = 250


def main(conn: Connection, nice: int) -> None:
    """The process's life: lower its priority, say it is ready, run jobs until told
    to stop or until the parent goes away (the pipe closes)."""
    # Ctrl-C, or a SIGTERM sent to the whole process group (systemd stops a service so):
    # the parent stops its children, after they send what the running job learned.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if nice > 0:
        os.nice(nice)  # raising one's own niceness needs no privilege
    tune_allocator()  # as the workers: freed tensor memory is kept for reuse
    info = {"pid": os.getpid(), "nice": os.nice(0),
            "blas_threads": os.environ["OPENBLAS_NUM_THREADS"]}  # fmt: skip
    conn.send(("ready", info))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if msg[0] == "stop":
            return
        if msg[0] == "job":
            try:
                if run_job(conn, msg[1]):
                    return
            except OSError:  # the parent went away during the job
                return
        # anything else is a cancel that arrived after its job ended


def run_job(conn: Connection, job: dict[str, Any]) -> bool:
    """Run one job, sending its events and then its result; True if told to stop."""
    flags = {"cancel": False, "stop": False}

    def stop() -> bool:  # between batches: has the parent asked this job to stop?
        while conn.poll():
            msg = conn.recv()
            if msg[0] == "stop":
                flags["stop"] = flags["cancel"] = True
            elif msg[0] == "cancel" and msg[1] == job["id"]:
                flags["cancel"] = True
        return flags["cancel"]

    if job.get("kind") == "compare":
        _compare(conn, job, stop)
        return flags["stop"]
    out = TrainOutcome()
    net = None
    try:
        net = model_from_spec(job["spec"])
        net.set_params(job["params"])
        opt = make_optimizer(job["optimizer"])
        data = load_split(job["dataset"]) if job["dataset"] is not None else None
        xs, ys = (data.x_train, data.y_train) if data is not None else (job["x"], job["y"])
        added = 0
        if job.get("extra_x") is not None:  # samples added to the session (e.g. drawings)
            import numpy as np

            added = len(job["extra_y"])
            xs = np.concatenate([xs, job["extra_x"].astype(xs.dtype)])
            ys = np.concatenate([ys, job["extra_y"].astype(ys.dtype)])
        plan = TrainPlan.of(len(xs), job["batch_size"], job["epochs"], job["iterations"],
                            job["shuffle_seed"])  # fmt: skip
        watch = job.get("watch") or []
        # a watched run reports on a batch clock (at most MAX_WATCHED_EVENTS events)
        every = max(job.get("watch_every", 1), -(-plan.iterations // MAX_WATCHED_EVENTS))
        start = {"event": "start", "iterations": plan.iterations, "samples": len(xs),
                 "every": every if watch else None,
                 "batch_size": plan.batch_size, "optimizer": job["optimizer"],
                 "dataset": job["dataset"], "shuffle_seed": plan.shuffle_seed,
                 "added_samples": added}  # fmt: skip
        conn.send(("event", start))
        emit = watching(lambda ev: conn.send(("event", ev)), net, watch, every, plan.iterations)
        train(net, opt, xs, ys, plan, emit, stop, out=out, every=every if watch else None)
        final: dict[str, Any] = {"event": out.status, "loss": out.loss, "elapsed": out.elapsed}
        if data is not None and net.loss_kind in LABEL_LOSSES:
            import numpy as np

            with np.errstate(all="ignore"):
                final["test_accuracy"] = net.accuracy(data.x_test, data.y_test)
            if data.classes:  # what guessing a class at random scores
                final["chance"] = 1 / len(data.classes)
        conn.send(("result", {"id": job["id"], "final": final, "iterations": out.iterations,
                              "params": net.params(), "pid": os.getpid()}))  # fmt: skip
    except Exception as exc:  # reported to the stream; what was learned is still sent
        params = net.params() if net is not None and out.iterations else None
        conn.send(("failed", {"id": job["id"], "detail": f"{exc}", "iterations": out.iterations,
                              "params": params, "pid": os.getpid()}))  # fmt: skip
    return flags["stop"]


def _compare(conn: Connection, job: dict[str, Any], stop: Callable[[], bool]) -> None:
    """A compare job (compare_job.py): its result, or "failed" (also when cancelled)."""
    try:
        result = run_compare(job, stop)
    except Stopped:
        conn.send(("failed", {"id": job["id"], "detail": "cancelled", "iterations": 0,
                              "params": None, "pid": os.getpid()}))  # fmt: skip
    except Exception as exc:
        conn.send(("failed", {"id": job["id"], "detail": f"{exc}", "iterations": 0,
                              "params": None, "pid": os.getpid()}))  # fmt: skip
    else:
        conn.send(("result", {"id": job["id"], "compare": result, "final": {},
                              "iterations": job["iterations"], "params": None,
                              "pid": os.getpid()}))  # fmt: skip


if __name__ == "__main__":
    main(Connection(int(sys.argv[1])), int(sys.argv[2]))
