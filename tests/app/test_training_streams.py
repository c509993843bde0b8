"""Training streams through a real uvicorn (one worker, one training process): a
waiting stream says so as it goes, and a client that leaves gives its place up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from tests.processes import app_server

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
