"""A step that lands on the other worker: it runs only the steps that worker missed,
never replays the pass from its start, and a step writes only the cursor.

Two apps on one SQLite file stand for scripts/run's two workers (a browser's
requests reach either, by whichever connection they take). Before, every hop read
the blob and replayed the pass up to the cursor, so its cost grew with the cursor,
and every step rewrote the whole session (weights, input) in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

import app.sessions.service as service_mod
from app.main import create_app
from app.settings import Settings

B64 = {"encoding": "b64", "refs": "false"}


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each rebuild from the store (blob read, pass replayed): the session id and how
    many steps it replayed, in order."""
    seen: list[tuple[str, int]] = []
    real = service_mod.rebuild

    def counting(stored: Any) -> Any:
        seen.append((stored.id, stored.meta["cursor"]))
        return real(stored)

    monkeypatch.setattr(service_mod, "rebuild", counting)
    return seen


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each store write's kind: "put" (the whole session) or "advance" (the cursor)."""
    from app.store.sqlite import SQLiteStore

    seen: list[str] = []
    for name in ("put", "advance"):
        real = getattr(SQLiteStore, name)

        def spy(self: Any, *args: Any, _real: Any = real, _name: str = name) -> Any:
            seen.append(_name)
            return _real(self, *args)

        monkeypatch.setattr(SQLiteStore, name, spy)
    return seen


def _loads(how: str) -> float:
    """glassbox_session_loads_total{how} of this process (both apps count into it)."""
    return REGISTRY.get_sample_value("glassbox_session_loads_total", {"how": how}) or 0.0


def _step(client: TestClient, sid: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = client.post(f"/api/sessions/{sid}/steps", params=B64, json=body or {})
    assert r.status_code == 200, r.text
    return r.json()


def test_alternate_steps_on_two_workers_catch_up_and_match_one_worker(
    tmp_path: Path, rebuilt: list[tuple[str, int]]
) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        sid = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        twin = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        plan = len(a.get(f"/api/sessions/{sid}").json()["plan"])
        hopping, alone = [], []
        before = {how: _loads(how) for how in ("live", "caught_up", "rebuilt")}
        for k in range(plan):  # through the whole pass, every step on the other worker
            hopping.append(_step((a, b)[k % 2], sid)["steps"])
            alone.append(_step(a, twin)["steps"])
        # b met the session once (its first step: rebuilt from the store, at step 1);
        # every later hop ran only the one step the other worker had run meanwhile.
        assert rebuilt == [(sid, 1)]
        # /metrics says so too: the twin's steps found it live, the hops caught up.
        loads = {how: _loads(how) - n for how, n in before.items()}
        assert loads == {"live": plan + 1, "caught_up": plan - 2, "rebuilt": 1}
        assert hopping == alone  # byte-identical tensors, as one worker gives
        for k in range(4):  # into the next pass, which starts from the updated weights
            hopping.append(_step((a, b)[k % 2], sid)["steps"])
            alone.append(_step(a, twin)["steps"])
        # The new pass rewrote the pass start (new weights): the other worker read it
        # and replayed the one step run since, not the pass.
        assert rebuilt == [(sid, 1), (sid, 1)]
        assert hopping == alone


def test_a_change_other_than_steps_is_rebuilt_on_the_other_worker(
    tmp_path: Path, rebuilt: list[tuple[str, int]]
) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        sid = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        _step(a, sid), _step(b, sid)
        rebuilt.clear()
        r = a.put(f"/api/sessions/{sid}/input", json={"sample": {"index": 7}})
        assert r.status_code == 200, r.text
        _step(a, sid)
        got = _step(b, sid)  # b's copy has the old input: it must not just run a step
        assert rebuilt == [(sid, 1)]
        assert got["cursor"] == 2
        assert b.get(f"/api/sessions/{sid}").json()["input"]["index"] == 7


def test_a_step_writes_only_the_cursor_and_a_new_pass_writes_the_session(
    tmp_path: Path, writes: list[str]
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
        plan = len(client.get(f"/api/sessions/{sid}").json()["plan"])
        writes.clear()
        for _ in range(plan):
            _step(client, sid)
        assert writes == ["advance"] * plan
        r = client.post(f"/api/sessions/{sid}/steps", json={"to": 1})
        assert r.status_code == 200  # a step it holds already: read, not written
        assert writes == ["advance"] * plan
        _step(client, sid)  # the pass is done: this starts the next from the updated weights
        assert writes == ["advance"] * plan + ["put"]


def test_a_stale_worker_loses_the_race_with_409_and_nothing_is_lost(tmp_path: Path) -> None:
    """Both workers hold the session at one version; both step it. The store's
    compare-and-swap (now on the cursor alone) lets one write and turns the other away;
    the loser's retry catches up and steps on from the winner's cursor."""
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        sid = a.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
        _step(a, sid), _step(b, sid)  # both hold it live, b at the newer version
        service_b = b.app.state.sessions  # type: ignore[attr-defined]
        real_head = service_b.store.head
        # b reads the head before a writes: as if the two requests ran at once.
        stale = real_head(sid)
        service_b.store.head = lambda _sid: stale
        assert _step(a, sid)["cursor"] == 3
        lost = b.post(f"/api/sessions/{sid}/steps", json={})
        assert lost.status_code == 409, lost.text
        service_b.store.head = real_head
        assert _step(b, sid)["cursor"] == 4  # retried: caught up, then stepped
        assert a.get(f"/api/sessions/{sid}").json()["cursor"] == 4
