"""Prometheus metrics: what they are, and the /metrics text that exposes them.

With several worker processes (scripts/run starts 2) each worker counts its own
requests, so one worker's numbers are not the server's. prometheus-client's
multiprocess mode fixes that: when PROMETHEUS_MULTIPROC_DIR names a directory
(scripts/run sets it to a fresh one), every worker writes its values to files
there and /metrics, answered by any worker, sums them all. Without it (one
process: TestClient, plain `uvicorn app.main:app`) the values live in memory.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.store import SessionStore, on_store_error

log = logging.getLogger(__name__)
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
# The classic text format (0.0.4): what every Prometheus version reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Seconds. A step takes milliseconds, a training stream up to minutes: buckets from
# 1 ms to 2 min keep both readable (a step p99 goal of 50 ms falls on a bucket edge).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 120.0)  # fmt: skip

REQUEST_SECONDS = Histogram(
    "glassbox_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template "
    "(never the raw path: ids would make every session a new series), method and "
    "status class",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
STEPS = Counter("glassbox_steps", "Steps run, by phase", ["phase"])
SESSIONS_CREATED = Counter("glassbox_sessions_created", "Sessions created")
# livesum: the sum over worker processes that are running (a stopped worker's
# trainings and training processes stopped with it).
TRAININGS_RUNNING = Gauge(
    "glassbox_trainings_running", "Trainings running now", multiprocess_mode="livesum"
)
TRAINING_QUEUE = Gauge(
    "glassbox_training_queue_length",
    "Trainings waiting for a training process (each worker's queue, summed)",
    multiprocess_mode="livesum",
)
# Seconds from a training's request to its start: none for most, minutes in a crowd.
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TRAINING_WAIT = Histogram(
    "glassbox_training_queue_wait_seconds",
    "Time a training waited in its worker's queue before it started",
    buckets=WAIT_BUCKETS,
)
TRAINING_PROCESSES = Gauge(
    "glassbox_training_processes",
    "Training processes running (GLASSBOX_TRAIN_WORKERS per worker process, summed)",
    multiprocess_mode="livesum",
)
CLASS_STREAMS = Gauge(
    "glassbox_class_streams_open",
    "Live-class event streams open now (students', teachers' and projectors' pages)",
    multiprocess_mode="livesum",
)
CLASS_EVENTS = Counter("glassbox_class_events_sent", "Class states handed to open event streams")
TRAINING_PROCESS_DEATHS = Counter(
    "glassbox_training_process_deaths",
    "Training processes that died (killed, out of memory) and were replaced",
)
SESSION_LOADS = Counter(
    "glassbox_session_loads",
    "How a request found its session in this worker: live (current), caught_up (ran "
    "the steps another worker ran) or rebuilt (read from the store, pass replayed: not "
    "live here, or changed otherwise); many rebuilt means GLASSBOX_LIVE_SESSIONS is "
    "smaller than the class",
    ["how"],
)
ABANDONED = Counter(
    "glassbox_requests_abandoned",
    "API requests stopped because their client disconnected before the answer (one "
    "still waiting for a thread never runs), by route template",
    ["route"],
)
STORE_ERRORS = Counter(
    "glassbox_store_errors",
    "Session store calls that failed because the store was unavailable (answered 503), "
    "by store kind and operation",
    ["store", "operation"],
)

if MULTIPROC_DIR:
    # A worker that exits normally drops its live gauges (its trainings stopped).
    atexit.register(multiprocess.mark_process_dead, os.getpid())
elif multiprocessing.parent_process() is not None:
    # uvicorn --workers N spawns its workers with multiprocessing.
    log.warning(
        "PROMETHEUS_MULTIPROC_DIR is not set in a worker of several: /metrics shows "
        "this worker's numbers only (scripts/run sets it; see docs/deployment.md)"
    )


def count_steps(phases: Iterable[str]) -> None:
    """Count steps that ran (and were saved), one per phase given."""
    for phase in phases:
        STEPS.labels(phase).inc()


# --- the session store ----------------------------------------------------------------


def _count_store_error(backend: str, operation: str, _: BaseException) -> None:
    STORE_ERRORS.labels(backend, operation).inc()


# The store tells its failures (the outages it answers 503 for) to this hook.
on_store_error(_count_store_error)


class _LiveSessions(Collector):
    """glassbox_sessions_live, asked of the store at each scrape: one count query
    (SQLite counts an indexed column, Redis a sorted set), not a scan of sessions."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            n = self.store.count()
        except Exception:  # a store outage is counted by the hook; /metrics still answers
            return
        yield GaugeMetricFamily("glassbox_sessions_live", "Sessions in the store now", value=n)


def exposition(store: SessionStore) -> bytes:
    """The /metrics body: every worker's metrics (or this process's), then the
    store's live session count."""
    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        base = generate_latest(registry)
    else:
        base = generate_latest(REGISTRY)
    own = CollectorRegistry(auto_describe=False)
    own.register(_LiveSessions(store))
    return base + generate_latest(own)
