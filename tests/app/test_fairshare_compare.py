"""POST /api/bp/compare runs in a training process, off the request thread (it waits
in the worker's fair training queue), answers byte for byte what it answered when it
trained in the request, and stops when its client leaves."""

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.request import urlopen

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.processes import app_server

# The answer to REQUEST as the request thread computed it before compare moved to
# the training processes (same seed, same batch order: the same numbers).
BEFORE = Path(__file__).with_name("fairshare_compare_before.json")
REQUEST = {"dataset": "moons", "hidden": [8], "lrs": [0.001, 0.1, 3, 100], "epochs": 4}


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics")


def test_compare_runs_in_a_training_process_and_answers_as_before(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, warm_up=False))) as c:
        queued = _metric(c.get("/metrics").text, "glassbox_training_queue_wait_seconds_count")
        r = c.post("/api/bp/compare", json=REQUEST)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.content == BEFORE.read_bytes()
        runner = c.app.state.training.runners[0]  # type: ignore[attr-defined]
        assert runner.proc.pid not in (None, os.getpid())  # its training process ran it
        after = _metric(c.get("/metrics").text, "glassbox_training_queue_wait_seconds_count")
        assert after == queued + 1  # through the worker's training queue
        diverged = [run["diverged"] for run in r.json()["runs"]]
        assert diverged == [False, False, False, True]


def test_a_compare_over_a_limit_is_still_a_422_before_any_work(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, warm_up=False))) as c:
        r = c.post("/api/bp/compare", json={**REQUEST, "lrs": [0.1] * 7})
        assert r.status_code == 422 and "max_compare_runs" in r.text
        assert c.app.state.training.runners[0].proc.pid is None  # type: ignore[attr-defined]


def _wait_for(what: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "the condition did not come true"
        time.sleep(0.05)


def test_a_compare_stops_when_its_client_leaves(tmp_path):
    """A compare that would train for hours (limits raised for it) stops running once
    its client closes the connection: the training process is free again."""
    env = {"GLASSBOX_LIMIT_MAX_EPOCHS": "100000", "GLASSBOX_LIMIT_MAX_ITERATIONS": "100000000",
           "GLASSBOX_LIMIT_MAX_TRAIN_FLOPS": "1000000000000000", "GLASSBOX_WARM_UP": "false",
           "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    with app_server(tmp_path, env) as base:
        port = int(base.rsplit(":", 1)[1])

        def running() -> float:
            with urlopen(base + "/metrics", timeout=10) as r:
                return _metric(r.read().decode(), "glassbox_trainings_running")

        body = json.dumps({"dataset": "digits", "hidden": [64], "lrs": [0.1, 0.2],
                           "epochs": 50000, "batch_size": 8}).encode()  # fmt: skip
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = (f"POST /api/bp/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        sock.sendall(head + body)
        try:
            _wait_for(lambda: running() == 1)
        finally:
            sock.close()  # the student closed the tab
        _wait_for(lambda: running() == 0)
        # the training process is free for the next one
        small = json.dumps({**REQUEST, "epochs": 1}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s2:
            s2.sendall(head.replace(str(len(body)).encode(), str(len(small)).encode()) + small)
            assert s2.recv(64).startswith(b"HTTP/1.1 200")
