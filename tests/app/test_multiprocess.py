"""Sessions across app instances and real server processes.

- A restart: a new app on the same data dir carries on a session where the old
  one stopped, replaying the pass to byte-identical tensors.
- Two real uvicorn processes sharing one store (Redis, or one SQLite file) serve
  alternate steps of one session through a whole pass and into the next; the
  result equals one process running the same steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
# Every tensor in full, so steps from different responses compare one to one.
B64 = {"encoding": "b64", "refs": "false"}
START_TIMEOUT_S = 30.0
# Step requests of the alternating walk: single steps (so every worker sees every
# kind of step) plus a few multi-step requests; 2 passes of digits-cnn and 3 more.
WALK: list[dict[str, Any]] = [{}] * 7 + [{"count": 3}] + [{}] * 10  # steps 0-19
WALK += [{}, {}, {"until": "backward"}, {}, {"until": "update"}]  # 0-1, 2-16, 17, 18-19
WALK += [{"count": 2}, {}]  # 0-1, 2


def _tensors(step: dict) -> dict[str, str]:
    return {t["name"]: t["data"] for t in step["tensors"]}


# --- a restart -------------------------------------------------------------------------


def test_sqlite_session_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a:
        sid = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        before: list[dict] = []
        for body in ({"count": 3}, {"until": "loss"}, {}, {}):
            r = a.post(f"/api/sessions/{sid}/steps", json=body, params=B64)
            assert r.status_code == 200, r.text
            before += r.json()["steps"]
        stopped = r.json()["cursor"]
        assert stopped == len(before) == 11

    # A new app (as after a restart): nothing in memory, only the SQLite file.
    with TestClient(create_app(settings)) as b:
        s = b.get(f"/api/sessions/{sid}").json()
        assert (s["cursor"], s["passes"]) == (stopped, 0)
        for k, old in enumerate(before):
            r = b.get(f"/api/sessions/{sid}/steps/{k}", params=B64)
            assert r.status_code == 200, r.text
            assert r.json()["index"] == k
            assert _tensors(r.json()) == _tensors(old), f"replayed step {k} differs"
        name = before[-1]["tensor_names"][-1]
        r = b.get(f"/api/sessions/{sid}/tensors/{name}", params=B64)
        assert r.json()["data"] == _tensors(before[-1])[name]

        after: list[dict] = []
        for body in ({}, {"until": "update"}, {"count": 2}):
            r = b.post(f"/api/sessions/{sid}/steps", json=body, params=B64)
            assert r.status_code == 200, r.text
            after += r.json()["steps"]
        plan_len = len(s["plan"])
        assert after[0]["index"] == stopped
        assert [st["index"] for st in after] == [*range(stopped, plan_len), 0, 1]
        assert (r.json()["cursor"], r.json()["passes"]) == (2, 1)

    # The interrupted walk equals an uninterrupted one.
    with TestClient(create_app(Settings(data_dir=tmp_path / "ref"))) as ref:
        rid = ref.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        r1 = ref.post(f"/api/sessions/{rid}/steps", json={"count": plan_len}, params=B64)
        r2 = ref.post(f"/api/sessions/{rid}/steps", json={"count": 2}, params=B64)
        want = r1.json()["steps"] + r2.json()["steps"]
    for got, exp in zip(before + after, want, strict=True):
        assert _tensors(got) == _tensors(exp), f"step {got['index']} differs"


# --- two real server processes -------------------------------------------------------


class Server:
    """One `python -m uvicorn app.main:app` process on a loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "uvicorn", "app.main:app"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self._out = log.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._out, stderr=self._out)

    def wait_ready(self) -> bool:
        """True once /healthz answers; False if the port was taken meanwhile."""
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(base_url=self.url, trust_env=False, timeout=1.0) as c:
            while True:
                if self.proc.poll() is not None:
                    if "address already in use" in self.tail().lower():
                        return False
                    pytest.fail(f"server exited with {self.proc.returncode}: {self.tail()}")
                try:
                    if c.get("/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"server not ready within {START_TIMEOUT_S} s: {self.tail()}")
                time.sleep(0.05)

    def tail(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop(self.proc, timeout=10)
        self._out.close()


@pytest.fixture
def start_servers(tmp_path: Path) -> Iterator[Callable[[int, dict[str, str]], list[str]]]:
    """start(n, env) -> the base URLs of n servers with that env, ready to serve.
    Every server started is terminated when the test ends, pass or fail."""
    started: list[Server] = []

    def start(n: int, extra: dict[str, str]) -> list[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLASSBOX_")}
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.update(extra)

        def launch() -> Server:
            started.append(Server(env, tmp_path / f"server-{len(started)}.log"))
            return started[-1]

        servers = [launch() for _ in range(n)]  # started together: they load in parallel
        for i, server in enumerate(servers):
            for _ in range(3):  # another process may take a free port before uvicorn binds it
                if server.wait_ready():
                    break
                server = servers[i] = launch()
            else:
                pytest.fail(f"no free port for a server: {server.tail()}")
        return [s.url for s in servers]

    try:
        yield start
    finally:
        for s in started:
            s.stop()


def _reference_walk(tmp_path: Path) -> tuple[list[dict], list[dict]]:
    """WALK run by one in-process app: each response, and its steps."""
    with TestClient(create_app(Settings(data_dir=tmp_path / "reference"))) as ref:
        sid = ref.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        outs = [
            ref.post(f"/api/sessions/{sid}/steps", json=body, params=B64).json() for body in WALK
        ]
    return outs, [st for o in outs for st in o["steps"]]


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
def test_two_server_processes_serve_alternate_steps_of_one_session(
    backend: str,
    tmp_path: Path,
    start_servers: Callable[[int, dict[str, str]], list[str]],
    request: pytest.FixtureRequest,
) -> None:
    data_dir = tmp_path / "data"
    env = {"GLASSBOX_DATA_DIR": str(data_dir)}
    if backend == "redis":
        # Database 1 of the session's redis-server: the store tests flush database 0.
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/1"
        with redis.Redis.from_url(url) as r:
            r.flushdb()
        env["GLASSBOX_STORE"] = url
    else:
        env["GLASSBOX_STORE"] = f"sqlite:///{data_dir / 'sessions.db'}"
    urls = start_servers(2, env)
    clients = [httpx.Client(base_url=u, trust_env=False, timeout=30.0) for u in urls]
    try:
        s = clients[0].post("/api/sessions", json={"preset": "digits-cnn"})
        assert s.status_code == 201, s.text
        sid, plan = s.json()["id"], s.json()["plan"]
        assert clients[1].get(f"/api/sessions/{sid}").json()["plan"] == plan

        outs, steps, done = [], [], 0
        for i, body in enumerate(WALK):
            c = clients[(i + 1) % 2]  # created on A: B steps first, then A, then B, ...
            r = c.post(f"/api/sessions/{sid}/steps", json=body, params=B64)
            assert r.status_code == 200, (i, r.status_code, r.text[:300])
            out = r.json()
            for st in out["steps"]:
                planned = plan[done % len(plan)]
                assert (st["index"], st["phase"], st["layer"], st["op"]) == (
                    planned["index"],
                    planned["phase"],
                    planned["layer"],
                    planned["op"],
                ), (i, st["index"], done)
                done += 1
            assert out["cursor"] == (done - 1) % len(plan) + 1, (i, out["cursor"], done)
            assert out["passes"] == (done - 1) // len(plan), (i, out["passes"], done)
            outs.append(out)
            steps += out["steps"]
        assert done == 2 * len(plan) + 3

        # Both servers now see the same state.
        views = [c.get(f"/api/sessions/{sid}").json() for c in clients]
        assert views[0] == views[1]
        assert (views[0]["cursor"], views[0]["passes"]) == (3, 2)
    finally:
        for c in clients:
            c.close()

    want_outs, want_steps = _reference_walk(tmp_path)
    assert [o["loss"] for o in outs] == [o["loss"] for o in want_outs]
    assert len(steps) == len(want_steps)
    for got, exp in zip(steps, want_steps, strict=True):
        assert _tensors(got) == _tensors(exp), f"step {got['index']} differs"
    # The weights after each update: conv1's, from both passes.
    updates = [_tensors(st)["conv1.w.after"] for st in steps if st["layer"] == "conv1"
               and st["phase"] == "update"]  # fmt: skip
    want = [_tensors(st)["conv1.w.after"] for st in want_steps if st["layer"] == "conv1"
            and st["phase"] == "update"]  # fmt: skip
    assert len(updates) == 2 and updates == want
