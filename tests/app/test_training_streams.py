"""Training streams through a real uvicorn (one worker, one training process): a
waiting stream says so as it goes, a client that leaves gives its place up, and a
server told to stop ends every stream with a "stopping" event before it exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.i18n import SUPPORTED, t
from app.main import create_app
from app.settings import Settings
from tests.processes import ROOT, app_server, free_port, stop, wait_until_up

LONG = {"iterations": 5000, "batch_size": 64}  # runs until cancelled


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("train-streams")
    with app_server(tmp, {"GLASSBOX_TRAIN_WORKERS": "1"}) as base:
        yield base


@contextmanager
def stream(c: httpx.Client, sid: str, body: dict[str, Any]) -> Iterator[Iterator[dict[str, Any]]]:
    """A training's events as they arrive; leaving the block closes the connection."""
    with c.stream("POST", f"/api/sessions/{sid}/train", json=body) as r:
        assert r.status_code == 200, r.read()

        def events() -> Iterator[dict[str, Any]]:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    yield json.loads(line[6:])

        yield events()


def _session(c: httpx.Client) -> str:
    return c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]


def _until(events: Iterator[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    got = []
    for event in events:
        got.append(event)
        if event["event"] == name:
            return got
    raise AssertionError(f"the stream ended without {name!r}: {got}")


def test_a_waiting_stream_says_its_place_and_a_client_that_leaves_frees_it(url):
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as c:
        a, b, d = _session(c), _session(c), _session(c)
        with stream(c, a, LONG) as first:
            assert next(first)["event"] == "start"  # a process was free: no "queued"
            leaving = ExitStack()
            second = leaving.enter_context(stream(c, b, {"epochs": 1}))
            queued = next(second)
            assert queued["event"] == "queued" and queued["position"] == 1
            assert queued["running"] == 1 and queued["queued"] == 1
            with stream(c, d, {"epochs": 1}) as third:
                behind = next(third)
                assert behind["event"] == "queued" and behind["position"] == 2
                leaving.close()  # b's client goes away: d moves up, and its stream says so
                moved = next(third)
                assert moved["event"] == "queued" and moved["position"] == 1
                assert moved["queued"] == 1
                assert c.delete(f"/api/sessions/{a}/train").status_code == 202
                assert _until(first, "cancelled")[-1]["event"] == "cancelled"
                rest = _until(third, "done")
                assert {e["event"] for e in rest} - {"queued"} == {"start", "progress", "done"}
        # b never trained: it left before its turn
        assert c.get(f"/api/sessions/{b}").json()["passes"] == 0
        assert c.get(f"/api/sessions/{d}").json()["passes"] == 1


def test_a_cancelled_waiting_stream_ends_cancelled_without_start(url):
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as c:
        a, b = _session(c), _session(c)
        with stream(c, a, LONG) as first:
            assert next(first)["event"] == "start"
            with stream(c, b, {"epochs": 1}) as second:
                assert next(second)["event"] == "queued"
                assert c.delete(f"/api/sessions/{b}/train").status_code == 202
                rest = list(second)
                assert rest[-1]["event"] == "cancelled"
                assert "start" not in {e["event"] for e in rest}
            c.delete(f"/api/sessions/{a}/train")
            assert _until(first, "cancelled")[-1]["event"] == "cancelled"


def test_a_client_that_leaves_a_running_training_keeps_what_it_learned(url):
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as c:
        a, b = _session(c), _session(c)
        with stream(c, a, LONG) as first:
            _until(first, "progress")  # it has learned something; the client goes away
        # the training stops after its batch and its weights are saved: the next one starts
        with stream(c, b, {"epochs": 1}) as second:
            assert _until(second, "done")[-1]["event"] == "done"
        assert c.get(f"/api/sessions/{a}").json()["passes"] == 1


def test_a_waiting_training_starts_from_the_weights_the_session_has_at_its_turn(url):
    """A training copies the session's weights when it starts, not when it queued: an
    edit made while it waited is trained on (not overwritten when it saves), and a
    session's second epoch request, queued behind its first, trains on from the first's
    result with the next shuffle seed."""
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as c:
        a, s = _session(c), _session(c)
        with stream(c, a, LONG) as first:
            assert next(first)["event"] == "start"
            with stream(c, s, {"iterations": 1, "batch_size": 1}) as waiting:
                assert next(waiting)["event"] == "queued"
                edited = {"array": [5.0] * 10}  # dense1.b of digits-cnn: one per class
                r = c.put(f"/api/sessions/{s}/params/dense1.b", json=edited)
                assert r.status_code == 200, r.text
                c.delete(f"/api/sessions/{a}/train")
                assert _until(waiting, "done")[-1]["loss"] is not None
        # The pass after the training starts from what it saved: dense1.b.before
        r = c.post(f"/api/sessions/{s}/steps", json={"until": "update"},
                   params={"names": "dense1.b.before"})  # fmt: skip
        (trained,) = [t["data"] for st in r.json()["steps"] for t in st["tensors"]]
        # one SGD step from 5.0 moves each bias a little, not back to where it was
        assert all(abs(v - 5.0) < 1.0 for v in trained), trained


@contextmanager
def glassbox(tmp: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`glassbox` (the image's command: uvicorn with --timeout-graceful-shutdown
    GLASSBOX_STOP_GRACE_S) on a free port with its data in tmp/data; yields its URL
    once it accepts connections, and its process."""
    port = free_port()
    skip = ("GLASSBOX_", "PROMETHEUS_MULTIPROC_DIR")
    full = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    full.update(GLASSBOX_DATA_DIR=str(tmp / "data"), GLASSBOX_HOST="127.0.0.1",
                GLASSBOX_PORT=str(port), **env)  # fmt: skip
    cmd = [str(Path(sys.executable).parent / "glassbox")]
    with (tmp / "glassbox.log").open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(proc, port, log=tmp / "glassbox.log")
            yield f"http://127.0.0.1:{port}", proc
        finally:
            stop(proc)


def test_a_server_told_to_stop_ends_each_stream_with_stopping_and_exits_within_its_grace(
    tmp_path,
):
    """SIGTERM (docker stop) while one training runs and another waits: both streams
    end with a "stopping" event in both languages, the running one after its batch
    with what it learned saved, and the server exits long before its grace is up
    (nothing had to be cut)."""
    grace = 20
    env = {"GLASSBOX_WORKERS": "1", "GLASSBOX_TRAIN_WORKERS": "1",
           "GLASSBOX_STOP_GRACE_S": str(grace)}  # fmt: skip
    with (
        glassbox(tmp_path, env) as (url, proc),
        httpx.Client(base_url=url, timeout=60, trust_env=False) as c,
    ):
        a, b = _session(c), _session(c)
        with stream(c, a, LONG) as first, stream(c, b, {"epochs": 1}) as second:
            assert next(second)["event"] == "queued"
            _until(first, "progress")  # it has learned something
            told = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            ran, waited = list(first), list(second)
        proc.wait(grace)
        took = time.monotonic() - told
    log = (tmp_path / "glassbox.log").read_text()
    assert took < grace / 2, log
    assert "timeout graceful shutdown exceeded" not in log
    stopped, never = ran[-1], waited[-1]
    assert stopped["event"] == "stopping" and stopped["started"] is True, ran[-3:]
    assert stopped["code"] == "server_stopping" and stopped["loss"] is not None
    assert stopped["message"] == {lang: t("error.server_stopping", lang) for lang in SUPPORTED}
    assert never["event"] == "stopping" and never["started"] is False, waited
    assert never["code"] == "server_stopping_waiting"
    assert never["message"]["zh-CN"] == t("error.server_stopping_waiting", "zh-CN")
    assert "start" not in {e["event"] for e in waited}
    # Restarted on the same data: the stopped training's weights were saved, the
    # waiting one never ran.
    with (
        app_server(tmp_path, {"GLASSBOX_WARM_UP": "false"}) as again,
        httpx.Client(base_url=again, timeout=30, trust_env=False) as c,
    ):
        assert c.get(f"/api/sessions/{a}").json()["passes"] == 1
        assert c.get(f"/api/sessions/{b}").json()["passes"] == 0


def test_with_two_workers_the_supervisor_passes_the_stop_on_and_streams_hear_it(tmp_path):
    """The image's default: uvicorn's supervisor gets SIGTERM and terminates its
    workers; the worker running the training ends its stream with "stopping"."""
    env = {"GLASSBOX_WORKERS": "2", "GLASSBOX_STOP_GRACE_S": "20"}
    with (
        glassbox(tmp_path, env) as (url, proc),
        httpx.Client(base_url=url, timeout=60, trust_env=False) as c,
    ):
        sid = _session(c)
        with stream(c, sid, LONG) as events:
            _until(events, "progress")
            told = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rest = list(events)
        assert proc.wait(20) == 0
        assert time.monotonic() - told < 10
    assert rest[-1]["event"] == "stopping" and rest[-1]["started"] is True, rest[-3:]


def test_a_training_asked_for_while_the_server_stops_gets_only_stopping(tmp_path):
    """Between SIGTERM and the end (a page's next epoch, on a connection opened before):
    no 429 to retry against a server that is going, but the stream's one event."""
    with TestClient(create_app(Settings(data_dir=tmp_path, warm_up=False))) as c:
        sid = _session(c)
        c.app.state.training.stopping()  # what the chained SIGTERM handler calls
        r = c.post(f"/api/sessions/{sid}/train", json={"epochs": 1})
        assert r.status_code == 200
        events = [json.loads(line[6:]) for line in r.text.splitlines() if line[:6] == "data: "]
        assert [e["event"] for e in events] == ["stopping"]
        assert events[0]["code"] == "server_stopping_waiting" and not events[0]["started"]
        assert c.get(f"/api/sessions/{sid}").json()["passes"] == 0
