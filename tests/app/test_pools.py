"""app/pools.py in one process: which pool each API route runs in, and that watching
for a disconnect changes nothing for a client that stays (tests/abuse/test_pools.py
floods a real server's pools and gives up on requests)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import app.routers as routers
from app import fairshare
from app.main import create_app
from app.pools import PooledRoute
from app.sessions import SessionService

HEAVY = {"/api/sessions", "/api/bp/sessions", "/api/sessions/{sid}/input",
         "/api/sessions/{sid}/boundary", "/api/sessions/{sid}/metrics",
         "/api/lab/surfaces/{name}", "/api/lab/descent", "/api/sessions/{sid}/weights",
         "/api/sessions/{sid}/weights.npz"}  # fmt: skip


def test_every_api_route_runs_in_a_pool_of_its_own():
    routes = [r for m in vars(routers).values() if isinstance(getattr(m, "router", None),
              APIRouter) for r in m.router.routes]  # fmt: skip
    api = [r for r in routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert len(api) > 20
    for route in api:
        assert isinstance(route, PooledRoute), f"{route.path} is not a PooledRoute"
    pools = {r.path: getattr(r.endpoint, "glassbox_pool", "api") for r in api}
    assert {p for p, pool in pools.items() if pool == "heavy"} == HEAVY


def test_a_route_runs_off_the_event_loop_with_the_requests_context(client, monkeypatch):
    seen: list[tuple[bool, str]] = []
    real = SessionService.get

    def get(self, sid):
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:  # a worker thread has no running loop
            on_loop = False
        seen.append((on_loop, fairshare.quota()["client"]))  # a context variable
        return real(self, sid)

    monkeypatch.setattr(SessionService, "get", get)
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    assert client.get(f"/api/sessions/{sid}").status_code == 200
    assert seen == [(False, "testclient")]


def test_an_unexpected_error_comes_out_as_itself(settings, monkeypatch):
    def broken(self, sid):
        raise RuntimeError("a bug")

    monkeypatch.setattr(SessionService, "get", broken)
    with TestClient(create_app(settings)) as c, pytest.raises(RuntimeError, match="a bug"):
        c.get("/api/sessions/x")  # the error itself, not an ExceptionGroup
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.get("/api/sessions/x")
        assert r.status_code == 500


def test_a_training_stream_still_ends_when_its_client_reads_it_to_the_end(client):
    sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/train", json={"iterations": 2, "batch_size": 4})
    assert r.status_code == 200 and r.text.rstrip().split("\n\n")[-1].startswith("event: done")
