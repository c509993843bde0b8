"""Training runs in separate processes: the pool directly, a killed process, the same
weights as training in this process, and the queue through the app (TestClient,
one training process)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.training.process import TrainingProcess
from app.training.queue import TrainingQueue
from engine.data import load_split
from engine.models import model_from_spec
from engine.optim import make_optimizer
from engine.training import TrainPlan, train

LONG = {"iterations": 5000, "batch_size": 64}  # runs until cancelled


def events_of(text: str) -> list[dict[str, Any]]:
    """The data of each event of an SSE body."""
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def wait_until(what: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "the condition did not come true"
        time.sleep(0.01)


@pytest.fixture
def one(tmp_path) -> Iterator[TestClient]:
    """The app with one training process."""
    with TestClient(create_app(Settings(data_dir=tmp_path, train_workers=1))) as c:
        yield c


class Background:
    """A training request in a thread (TestClient returns a stream once it ended)."""

    def __init__(self, c: TestClient, sid: str, body: dict[str, Any]) -> None:
        self.events: list[dict[str, Any]] = []
        self.status = 0

        def post() -> None:
            r = c.post(f"/api/sessions/{sid}/train", json=body)
            self.status, self.events = r.status_code, events_of(r.text)

        self.thread = threading.Thread(target=post)
        self.thread.start()

    def result(self) -> list[dict[str, Any]]:
        self.thread.join(120)
        assert not self.thread.is_alive()
        return self.events


def _session(c: TestClient, preset: str = "digits-cnn") -> str:
    return c.post("/api/sessions", json={"preset": preset}).json()["id"]


def _queue(c: TestClient) -> TrainingQueue:
    app: Any = c.app
    return app.state.training


def _running(c: TestClient, sid: str) -> bool:
    return any(t.sid == sid and t.done > 0 for t in _queue(c).running.values())


def _waiting(c: TestClient) -> list[str]:
    return [t.sid for t in _queue(c).waiting]


def _metric(c: TestClient, name: str) -> float:
    """A sample of /metrics (the registry is this test process's: compare before/after)."""
    for line in c.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics")


def test_a_training_process_is_another_process_at_a_lower_priority_with_one_blas_thread():
    proc = TrainingProcess(nice=5)
    proc.start()
    try:
        assert proc.info["pid"] == proc.pid != os.getpid()
        assert proc.info["nice"] == min(19, os.nice(0) + 5)
        assert proc.info["blas_threads"] == "1"
        data = load_split("toy-moons")
        net = model_from_spec({"input_shape": [2], "loss": "softmax_cross_entropy", "layers": [
            {"type": "dense", "name": "fc", "in_features": 2, "out_features": 2}]})  # fmt: skip
        job = {"id": 7, "spec": net.spec(), "params": net.params(), "dataset": data.name,
               "optimizer": {"type": "sgd", "lr": 0.1}, "x": None, "y": None, "batch_size": 20,
               "epochs": 1, "iterations": None, "shuffle_seed": 0}  # fmt: skip
        proc.send(("job", job))
        got: list[tuple[Any, ...]] = []
        while not got or got[-1][0] == "event":
            msg = proc.recv(30)
            assert msg is not None
            got.append(msg)
        assert got[0][1]["event"] == "start" and got[0][1]["iterations"] == 10
        kind, result = got[-1]
        assert kind == "result" and result["id"] == 7 and result["pid"] == proc.pid
        assert result["iterations"] == 10 and result["final"]["event"] == "done"
    finally:
        proc.stop()
    assert not proc.alive


def _old_loop(net: Any, opt: Any, xs: np.ndarray, ys: np.ndarray, batch: int, total: int,
              seed: int) -> None:  # fmt: skip
    """The batches of the training loop that ran in the request's thread before."""
    n = len(xs)
    per_epoch = max(1, -(-n // batch))
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    for it in range(total):
        _, pos = divmod(it, per_epoch)
        if pos == 0 and it:
            order = rng.permutation(n)
        idx = order[pos * batch : (pos + 1) * batch]
        net.train_batch(xs[idx], ys[idx], opt)


@pytest.mark.parametrize(
    ("create", "body"),
    [
        ({"preset": "digits-cnn"}, {"epochs": 1, "batch_size": 64}),
        (
            {"preset": "memory-lstm", "overrides": {"reinit": True, "clip": 1}},
            {"epochs": 2, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.003}},
        ),
        ({"preset": "conv-basics"}, {"iterations": 3, "batch_size": 1}),  # its own input
    ],  # fmt: skip
)
def test_the_weights_are_those_of_the_same_training_in_this_process(one, create, body):
    c, service = one, one.app.state.sessions
    sid = c.post("/api/sessions", json=create).json()["id"]
    c.post(f"/api/sessions/{sid}/train", json={**body, "epochs": None, "iterations": 1})
    with service.session(sid) as live:  # after one run: the next is shuffled with seed 1
        net = model_from_spec(live.net.spec())
        net.set_params({k: v.copy() for k, v in live.net.params().items()})
        data = service.dataset(live)
        xs, ys = (data.x_train, data.y_train) if data else (live.run.x, live.run.target)
        seed = live.meta["train_runs"]
    spec = body.get("optimizer") or live.meta["optimizer"]
    events = events_of(c.post(f"/api/sessions/{sid}/train", json=body).text)
    assert events[0]["shuffle_seed"] == seed == 1 and events[-1]["event"] == "done"
    with service.session(sid) as live:
        trained = {k: v.copy() for k, v in live.net.params().items()}
    plan = TrainPlan.of(len(xs), body["batch_size"], body.get("epochs"), body.get("iterations"),
                        seed)  # fmt: skip
    here = model_from_spec(net.spec())
    here.set_params(net.params())
    out = train(here, make_optimizer(spec), xs, ys, plan, lambda _: None, lambda: False)
    assert events[-1]["loss"] == out.loss
    old = model_from_spec(net.spec())
    old.set_params(net.params())
    _old_loop(old, make_optimizer(spec), xs, ys, plan.batch_size, plan.iterations, seed)
    for name, value in trained.items():
        assert np.array_equal(value, here.params()[name]), name
        assert np.array_equal(value, old.params()[name]), name


def test_a_killed_training_process_gives_an_error_event_and_is_replaced(one):
    c = one
    sid = _session(c)
    runner = c.app.state.training.runners[0]
    first = Background(c, sid, LONG)
    wait_until(lambda: _running(c, sid))
    pid = runner.proc.pid
    deaths = _metric(c, "glassbox_training_process_deaths_total")
    os.kill(pid, signal.SIGKILL)
    events = first.result()
    assert events[0]["event"] == "start" and events[-1]["event"] == "error"
    assert "killed by SIGKILL" in events[-1]["detail"]
    r = c.post(f"/api/sessions/{sid}/train", json={"iterations": 2, "batch_size": 8})
    assert events_of(r.text)[-1]["event"] == "done"
    assert runner.proc.pid not in (None, pid)
    assert _metric(c, "glassbox_training_process_deaths_total") == deaths + 1
    assert _metric(c, "glassbox_training_processes") >= 1  # the new one


def test_a_second_sessions_training_waits_its_turn_then_runs(one):
    c = one
    a, b = _session(c), _session(c, "shapes-cnn")
    waits = _metric(c, "glassbox_training_queue_wait_seconds_count")
    first = Background(c, a, LONG)
    wait_until(lambda: _running(c, a))
    second = Background(c, b, {"epochs": 1})
    wait_until(lambda: _waiting(c) == [b])
    assert _metric(c, "glassbox_training_queue_length") == 1
    assert _metric(c, "glassbox_trainings_running") == 1
    assert c.delete(f"/api/sessions/{a}/train").status_code == 202
    assert first.result()[-1]["event"] == "cancelled"
    events = second.result()
    assert second.status == 200
    names = [e["event"] for e in events]
    assert names[0] == "queued" and names[names.index("start") - 1] == "queued"
    assert set(names[: names.index("start")]) == {"queued"} and names[-1] == "done"
    queued = events[0]
    assert queued["position"] == 1 and queued["running"] == 1 and queued["queued"] == 1
    est = queued["expected_start_s"]
    assert est is None or est >= 0
    assert _metric(c, "glassbox_training_queue_length") == 0
    assert _metric(c, "glassbox_training_queue_wait_seconds_count") == waits + 2  # a and b


def test_a_cancelled_waiting_training_ends_cancelled_without_starting(one):
    c = one
    a, b = _session(c), _session(c)
    first = Background(c, a, LONG)
    wait_until(lambda: _running(c, a))
    second = Background(c, b, {"epochs": 1})
    wait_until(lambda: _waiting(c) == [b])
    assert c.delete(f"/api/sessions/{b}/train").status_code == 202
    names = [e["event"] for e in second.result()]
    assert names[0] == "queued" and names[-1] == "cancelled" and "start" not in names
    assert _running(c, a)  # the other one trains on
    c.delete(f"/api/sessions/{a}/train")
    assert first.result()[-1]["event"] == "cancelled"


def test_at_the_queues_bound_a_training_is_a_429_with_retry_after(tmp_path):
    settings = Settings(data_dir=tmp_path, train_workers=1, train_queue_max=1)
    with TestClient(create_app(settings)) as c:
        a, b, d = _session(c), _session(c), _session(c)
        first = Background(c, a, LONG)
        wait_until(lambda: _running(c, a))
        second = Background(c, b, {"epochs": 1})
        wait_until(lambda: _waiting(c) == [b])
        r = c.post(f"/api/sessions/{d}/train", json={"epochs": 1})
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        assert "train_queue_max = 1" in r.json()["detail"]
        c.delete(f"/api/sessions/{a}/train")
        assert first.result()[-1]["event"] == "cancelled"
        assert second.result()[-1]["event"] == "done"


def test_a_cancel_asked_of_another_worker_reaches_a_waiting_and_a_running_training(one):
    from app.sessions.training import CANCEL

    c, store = one, one.app.state.sessions.store
    a, b = _session(c), _session(c)
    first = Background(c, a, LONG)
    wait_until(lambda: _running(c, a))
    second = Background(c, b, {"epochs": 1})
    wait_until(lambda: _waiting(c) == [b])
    store.signal(b, CANCEL)  # what DELETE does in a worker that does not hold it
    names = [e["event"] for e in second.result()]
    assert names[0] == "queued" and names[-1] == "cancelled" and "start" not in names
    store.signal(a, CANCEL)
    assert first.result()[-1]["event"] == "cancelled"
