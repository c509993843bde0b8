"""A replica that dies: nginx (deploy/nginx-replicas.conf.template, as compose.yaml's
proxy uses it) sends its sessions to another replica, which rebuilds them from Redis;
the students' steps go on where they were.

Real parts, as bench.replicas starts them: a redis-server, two app servers on it, nginx
in front (the bench adds X-Glassbox-Upstream, the replica that answered).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.replicas import REPLICA_HEADER, Cluster, cluster

STEP = {"encoding": "b64"}


@pytest.fixture
def replicas() -> Iterator[Cluster]:
    with cluster(replicas=2, workers=1) as c:
        yield c


def _gone(address: str, within: float = 15) -> None:
    host, port = address.split(":")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError(f"{address} still accepts connections")


def test_a_dead_replicas_sessions_go_on_on_another(replicas: Cluster) -> None:
    with httpx.Client(base_url=replicas.proxy.url, trust_env=False, timeout=30) as c:
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        before = [c.post(f"/api/sessions/{sid}/steps", json={}, params=STEP) for _ in range(3)]
        owner = before[-1].headers[REPLICA_HEADER]
        dead = next(s for s in replicas.replicas if s.url.endswith(owner))
        os.kill(dead.pid, signal.SIGTERM)  # `docker stop` of that replica
        _gone(owner)

        after = c.post(f"/api/sessions/{sid}/steps", json={}, params=STEP)
        assert after.status_code == 200, after.text  # a POST nginx never got through
        assert after.headers[REPLICA_HEADER] != owner
        assert after.json()["cursor"] == before[-1].json()["cursor"] + 1
        read = c.get(f"/api/sessions/{sid}")
        assert read.status_code == 200 and read.headers[REPLICA_HEADER] != owner
        # a new session meanwhile goes to the live replica too
        assert c.post("/api/sessions", json={"preset": "digits-cnn"}).status_code == 201
