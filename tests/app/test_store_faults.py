"""Store faults with real parts: a redis-server the test kills and restarts, a SQLite
file whose directory goes away and comes back. While the store is out, API calls get
503 with a clear message and Retry-After, readiness is 503; when it returns, the same
app (no restart) serves the same sessions again, and a step that failed left nothing."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.store import on_store_error
from tests.processes import free_port

PRESET = {"preset": "conv-basics", "seed": 3}


class RedisServer:
    """A redis-server of this test alone, on a fixed port and data dir, writing every
    change to its append-only file before it answers (appendfsync always): killed
    and started again, it holds every write it acknowledged."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not on PATH: run scripts/setup --dev to install it")
        self.exe, self.workdir, self.port = exe, workdir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.workdir),
               "--logfile", str(self.workdir / "redis.log")]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        with redis.Redis.from_url(self.url, socket_connect_timeout=0.5) as probe:
            while True:
                try:
                    if probe.ping():
                        return
                except redis.ConnectionError:  # not listening yet, or loading its file
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"redis-server did not come up: {log}")
                time.sleep(0.05)

    def kill(self) -> None:
        """Stop it as a crash would (SIGKILL: no shutdown save)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.kill()


def step(client: TestClient, sid: str) -> Any:
    return client.post(f"/api/sessions/{sid}/steps", json={})


def assert_store_unavailable(r: Any, backend: str) -> None:
    """503, Retry-After, and a message naming the store and saying to retry."""
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    detail = r.json()["detail"]
    assert f"session store ({backend}) is unavailable" in detail
    assert "retry" in detail
    assert "Traceback" not in r.text


def fail_next_write(client: TestClient, outage: Callable[[], object]) -> None:
    """The next store write (a put, or a step's advance) starts an outage first, so it
    fails between the step's read and its write (the step itself has run in memory)."""
    store = client.app.state.sessions.store  # type: ignore[attr-defined]
    real = {name: getattr(store, name) for name in ("put", "advance")}

    def failing(name: str) -> Callable[..., Any]:
        def write(*args: Any) -> Any:
            for other, method in real.items():
                setattr(store, other, method)
            outage()
            return real[name](*args)

        return write

    for name in real:
        setattr(store, name, failing(name))


def test_redis_down_gives_503_and_not_ready_then_the_same_session_steps_again(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    app = create_app(Settings(data_dir=tmp_path, store=redis_server.url))
    with TestClient(app) as client:
        sid = client.post("/api/sessions", json=PRESET).json()["id"]
        twin = client.post("/api/sessions", json=PRESET).json()["id"]  # never sees a fault
        for _ in range(2):
            assert step(client, sid).status_code == 200
            assert step(client, twin).status_code == 200
        before = client.get(f"/api/sessions/{sid}").json()

        fail_next_write(client, redis_server.kill)  # dies mid-step: after the run, at the write
        assert_store_unavailable(step(client, sid), "redis")
        assert_store_unavailable(step(client, sid), "redis")
        assert_store_unavailable(client.get(f"/api/sessions/{sid}"), "redis")
        assert_store_unavailable(client.post("/api/sessions", json=PRESET), "redis")
        assert_store_unavailable(client.get("/readyz"), "redis")
        assert client.get("/healthz").status_code == 200  # alive, only not ready

        redis_server.start()  # same port, same append-only file; the app is not restarted
        assert client.get("/readyz").json() == {"status": "ready", "store": "redis"}
        after = client.get(f"/api/sessions/{sid}").json()
        assert (after["version"], after["cursor"]) == (before["version"], before["cursor"])
        resumed, control = step(client, sid), step(client, twin)
        assert resumed.status_code == 200
        assert resumed.json()["cursor"] == before["cursor"] + 1
        assert resumed.json()["steps"] == control.json()["steps"]  # as if no fault happened
        assert client.post("/api/sessions", json=PRESET).status_code == 201


def test_sqlite_directory_gone_gives_503_and_not_ready_then_it_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    away = tmp_path / "away"
    with TestClient(create_app(Settings(data_dir=data))) as client:
        sid = client.post("/api/sessions", json=PRESET).json()["id"]
        twin = client.post("/api/sessions", json=PRESET).json()["id"]
        for _ in range(2):
            assert step(client, sid).status_code == 200
            assert step(client, twin).status_code == 200
        before = client.get(f"/api/sessions/{sid}").json()

        # Moving the directory away is what a lost mount looks like; chmod would not do
        # (root ignores it) and open connections would keep using the moved file.
        fail_next_write(client, lambda: data.rename(away))
        assert_store_unavailable(step(client, sid), "sqlite")
        assert_store_unavailable(step(client, sid), "sqlite")
        assert_store_unavailable(client.post("/api/sessions", json=PRESET), "sqlite")
        assert_store_unavailable(client.get("/readyz"), "sqlite")
        assert not data.exists()  # the store did not quietly make a new, empty one

        away.rename(data)
        assert client.get("/readyz").json() == {"status": "ready", "store": "sqlite"}
        after = client.get(f"/api/sessions/{sid}").json()
        assert (after["version"], after["cursor"]) == (before["version"], before["cursor"])
        resumed, control = step(client, sid), step(client, twin)
        assert resumed.status_code == 200
        assert resumed.json()["steps"] == control.json()["steps"]


def test_sqlite_file_replaced_by_a_directory_gives_503_until_it_is_back(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        sid = client.post("/api/sessions", json=PRESET).json()["id"]
        db = tmp_path / "sessions.db"
        db.rename(tmp_path / "moved.db")
        db.mkdir()
        r = step(client, sid)
        assert_store_unavailable(r, "sqlite")
        assert "sessions.db" in r.json()["detail"]
        assert_store_unavailable(client.get("/readyz"), "sqlite")
        db.rmdir()
        (tmp_path / "moved.db").rename(db)
        assert step(client, sid).status_code == 200
        assert client.get("/readyz").status_code == 200


def test_readiness_is_ready_with_a_working_store(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "store": "sqlite"}


def test_store_error_hook_is_told_of_each_failure(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str]] = []
    remove = on_store_error(lambda b, op, exc: seen.append((b, op, type(exc).__name__)))
    try:
        with TestClient(create_app(Settings(data_dir=tmp_path / "d"))) as client:
            sid = client.post("/api/sessions", json=PRESET).json()["id"]
            (tmp_path / "d").rename(tmp_path / "e")
            assert step(client, sid).status_code == 503
    finally:
        remove()
    assert [s[:2] for s in seen] == [("sqlite", "head")]  # the step's first store call
