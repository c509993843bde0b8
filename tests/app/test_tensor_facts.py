"""A step's tensor facts (explainable, cell) are taken while the service holds the
session's lock (the network and optimizer are shared with the session's next
requests), and a fact that fails costs the tensor its click, never the step (no 500)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.sessions.tensor_facts as tensor_facts
from app.main import create_app
from app.settings import Settings


@pytest.fixture
def served(tmp_path: Path):
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as c:
        yield c, app.state.sessions


def test_tensor_facts_are_taken_under_the_session_lock(served, monkeypatch):
    c, service = served
    sid = c.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
    held: list[bool] = []
    real = tensor_facts.is_explainable

    def watched(live, name):
        lock = service.live.held_lock(live.id)
        held.append(lock is not None and lock.lock.locked())
        return real(live, name)

    monkeypatch.setattr(tensor_facts, "is_explainable", watched)
    requests = [
        lambda: c.post(f"/api/sessions/{sid}/steps", json={"until": "forward"}),
        lambda: c.post(f"/api/sessions/{sid}/steps", json={"to": 2}),
        lambda: c.get(f"/api/sessions/{sid}/steps/1"),
        lambda: c.get(f"/api/sessions/{sid}/tensors/lstm1.t3.f"),
    ]
    for request in requests:
        held.clear()
        r = request()
        assert r.status_code == 200, r.text
        assert held and all(held), r.request.url


def test_a_step_asks_facts_only_of_the_tensors_it_sends(served, monkeypatch):
    c, _ = served
    sid = c.post("/api/sessions", json={"preset": "bilstm-memory"}).json()["id"]
    asked: list[str] = []
    real = tensor_facts.is_explainable

    def counted(live, name):
        asked.append(name)
        return real(live, name)

    monkeypatch.setattr(tensor_facts, "is_explainable", counted)
    r = c.post(f"/api/sessions/{sid}/steps", json={"until": "forward"},
               params={"names": "bilstm1.fwd.t1.*"})  # fmt: skip
    sent = [t["name"] for s in r.json()["steps"] for t in s["tensors"]]
    assert sent and sorted(asked) == sorted(sent)
    asked.clear()
    c.post(f"/api/sessions/{sid}/steps", json={"count": 2}, params={"tensors": "false"})
    assert asked == []


def test_a_fact_that_fails_answers_not_explainable_and_is_logged(served, monkeypatch, caplog):
    c, _ = served
    sid = c.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]

    def broken(net, optimizer, name):
        if name.endswith(".f"):
            raise RuntimeError("a rule lookup with a bug")
        return True

    monkeypatch.setattr(tensor_facts, "explainable", broken)
    with caplog.at_level(logging.ERROR, logger="app.sessions.tensor_facts"):
        r = c.post(f"/api/sessions/{sid}/steps", json={"until": "forward"})
    assert r.status_code == 200, r.text
    flags = {t["name"]: t["explainable"] for s in r.json()["steps"] for t in s["tensors"]}
    assert flags["lstm1.t3.f"] is False and flags["lstm1.t3.i"] is True
    assert any("lstm1.t3.f" in rec.getMessage() for rec in caplog.records)
    assert c.get(f"/api/sessions/{sid}/tensors/lstm1.t2.f").json()["explainable"] is False
