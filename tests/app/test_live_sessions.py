"""How many sessions a worker keeps live (GLASSBOX_LIVE_SESSIONS): a class's students
step without their sessions being rebuilt, and one that dropped out is rebuilt exactly.

With 200 students and a fixed 64 live per worker, ~95 % of steps replayed their pass
(bench/classroom.py, docs/performance.md): the setting sizes the cache to the class.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.sessions.service as service_mod
from app.main import create_app
from app.settings import Settings


def _class(tmp_path: Path, live: int, students: int, monkeypatch: pytest.MonkeyPatch):
    """`students` sessions each stepped once, then once more in the same order; the
    session ids rebuilt from the store on that second round, and the client."""
    rebuilt: list[str] = []
    real = service_mod.rebuild

    def counting(stored):  # a spy on the service's rebuild
        rebuilt.append(stored.id)
        return real(stored)

    monkeypatch.setattr(service_mod, "rebuild", counting)
    client = TestClient(create_app(Settings(data_dir=tmp_path, live_sessions=live)))
    ids = [client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
           for _ in range(students)]  # fmt: skip
    for sid in ids:
        assert client.post(f"/api/sessions/{sid}/steps?tensors=false", json={}).status_code == 200
    rebuilt.clear()
    for sid in ids:
        assert client.post(f"/api/sessions/{sid}/steps?tensors=false", json={}).status_code == 200
    return ids, rebuilt, client


def test_a_worker_keeps_as_many_sessions_live_as_the_setting_says(tmp_path, monkeypatch):
    ids, rebuilt, _ = _class(tmp_path, live=12, students=12, monkeypatch=monkeypatch)
    assert rebuilt == []  # every student's session was still live
    assert len(ids) == 12


def test_a_session_beyond_the_setting_is_rebuilt_to_the_same_step(tmp_path, monkeypatch):
    ids, rebuilt, client = _class(tmp_path, live=4, students=6, monkeypatch=monkeypatch)
    # Least recently used out: stepping 6 in turn through a cache of 4 misses each time.
    assert rebuilt == ids
    cursors = {client.get(f"/api/sessions/{sid}").json()["cursor"] for sid in ids}
    assert cursors == {2}  # rebuilt by replaying, each at the step it had reached


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("GLASSBOX_LIVE_SESSIONS", "500")
    assert Settings().live_sessions == 500
