"""deploy/nginx-replicas.conf.template routes by session id (the benchmark itself is not
a test).

Real parts, as bench.replicas starts them: a redis-server, two app servers (one
uvicorn worker each) on it, nginx with the rendered template in front. The bench's
nginx adds X-Glassbox-Upstream (the replica that answered) to every response; each
replica's own /metrics confirms who ran the steps.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bench.replicas import REPLICA_HEADER, Cluster, cluster, steps_run

STEP = {"encoding": "b64"}


@pytest.fixture(scope="module")
def replicas() -> Iterator[Cluster]:
    for exe, package in (("nginx", "nginx"), ("redis-server", "redis-server")):
        if shutil.which(exe) is None and shutil.which(exe, path="/usr/sbin") is None:
            # A failure, not a skip: the proxy config must not go untested unnoticed.
            pytest.fail(
                f"{exe} is not installed: run scripts/setup --dev (apt-get install {package})"
            )
    with cluster(replicas=2, workers=1) as c:
        yield c


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, trust_env=False, timeout=30.0)


def _frame(r: httpx.Response) -> dict[str, Any]:
    """A step's answer without what names the session."""
    assert r.status_code == 200, r.text
    body = r.json()
    return {k: v for k, v in body.items() if k not in ("session", "version")}


def test_every_request_of_a_session_reaches_one_replica_and_sessions_spread(
    replicas: Cluster,
) -> None:
    addresses = {s.url.removeprefix("http://") for s in replicas.replicas}
    before = [steps_run(s.url) for s in replicas.replicas]
    owners: Counter[str] = Counter()
    with _client(replicas.proxy.url) as c:
        for _ in range(30):  # until each replica owns a session (2^-29 to miss one)
            sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
            served = set()
            for _ in range(10):
                r = c.post(f"/api/sessions/{sid}/steps", json={}, params=STEP)
                assert r.status_code == 200, r.text
                served.add(r.headers[REPLICA_HEADER])
            served.add(c.get(f"/api/sessions/{sid}").headers[REPLICA_HEADER])
            assert len(served) == 1, f"session {sid} was served by {served}"
            owners[served.pop()] += 1
            if len(owners) == 2:
                break
    assert set(owners) == addresses
    after = [steps_run(s.url) for s in replicas.replicas]
    ran = {s.url.removeprefix("http://"): a - b
           for s, a, b in zip(replicas.replicas, after, before, strict=True)}  # fmt: skip
    assert ran == {a: 10 * owners[a] for a in addresses}


def test_a_training_stream_through_the_proxy_ends_and_stays_with_its_session(
    replicas: Cluster,
) -> None:
    with _client(replicas.proxy.url) as c:
        sid = c.post("/api/bp/sessions", json={"dataset": "moons", "hidden": [4]}).json()["id"]
        owner = c.get(f"/api/sessions/{sid}").headers[REPLICA_HEADER]
        with c.stream("POST", f"/api/sessions/{sid}/train", json={"epochs": 2}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers[REPLICA_HEADER] == owner
            events = [line[7:] for line in r.iter_lines() if line.startswith("event: ")]
        assert events[-1] == "done", events
        assert "start" in events
        boundary = c.get(f"/api/sessions/{sid}/boundary")
        assert boundary.status_code == 200
        assert boundary.headers[REPLICA_HEADER] == owner


def test_steps_through_the_proxy_equal_a_single_replica_run_across_rebuilds(
    replicas: Cluster,
) -> None:
    """24 steps (past the first update) through the proxy, one of them sent straight
    to the replica that does not own the session (each replica then rebuilds it from
    Redis once), against the same 24 on one replica alone."""
    one = replicas.replicas[0].url
    with _client(replicas.proxy.url) as proxy, _client(one) as alone:
        sid = proxy.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        ref = alone.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        first = proxy.post(f"/api/sessions/{sid}/steps", json={}, params=STEP)
        owner = first.headers[REPLICA_HEADER]
        other = next(s.url for s in replicas.replicas if not s.url.endswith(owner))
        got = [_frame(first)]
        with _client(other) as elsewhere:
            for i in range(1, 24):
                c = elsewhere if i == 12 else proxy
                got.append(_frame(c.post(f"/api/sessions/{sid}/steps", json={}, params=STEP)))
        want = [_frame(alone.post(f"/api/sessions/{ref}/steps", json={}, params=STEP))
                for _ in range(24)]  # fmt: skip
    assert [g["cursor"] for g in got] == [w["cursor"] for w in want]
    assert any(g["passes"] == 1 for g in got), "the run did not reach an update"
    assert got == want
