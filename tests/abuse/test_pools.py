"""Issue 15: heavy work cannot starve steps and static files, and a request whose client
is gone stops. A real server with one thread in each of its pools (GLASSBOX_API_THREADS,
GLASSBOX_HEAVY_THREADS), so a few dozen requests make a queue:

- while steps queue for the API thread, static files and /healthz answer;
- while heavy requests (lab descents at their limits, creates) queue for the heavy
  thread, a step answers;
- a step (or a create) whose client gave up while it waited is never run (the issue saw
  a timed-out step applied later), and /metrics counts it as abandoned.

The assertions are about order (this answered while those still waited) and state (the
cursor did not move), not about how fast this machine is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from tests.abuse.conftest import Server, start

# Requests queued behind the one thread: seconds of work (a full pass of memory-lstm-40
# takes about 60 ms here, a descent of 8 paths of 500 steps about 50 ms). More than
# AnyIO's 40 threads: in a shared pool the request after them would wait for most.
FLOOD = 60
WAITED_FOR_AT_MOST = FLOOD // 6  # see _finished_meanwhile
PASS = {"until": "update"}
DESCENT = {"surface": "rosenbrock", "start": [-1.5, 2.0], "steps": 500,
           "runs": [{"lr": 1e-4 * (i + 1), "optimizer": "adam"} for i in range(8)]}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"GLASSBOX_API_THREADS": "1", "GLASSBOX_HEAVY_THREADS": "1"}
    yield from start(tmp_path_factory.mktemp("pools"), env)


def _create(http: httpx.Client, preset: str = "memory-lstm-40") -> str:
    r = http.post("/api/sessions", json={"preset": preset})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _flood(server: Server, n: int, request: Callable[[httpx.Client, int], httpx.Response]
           ) -> tuple[ThreadPoolExecutor, list[Future[httpx.Response]]]:  # fmt: skip
    """`n` requests at once from their own connections; returns once all are sent (so
    a request sent later queues behind them). Each connection closes after its answer."""

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            return request(c, i)

    pool = ThreadPoolExecutor(n)
    futures = [pool.submit(one, i) for i in range(n)]
    time.sleep(0.2)  # every request on the wire and waiting for the thread
    return pool, futures


def _abandoned(http: httpx.Client, route: str) -> float:
    text = http.get("/metrics").text
    pattern = rf'^glassbox_requests_abandoned_total\{{route="{re.escape(route)}"\}} (\S+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def _finished_meanwhile(flood: list[Future[httpx.Response]], probe: Callable[[], object]) -> int:
    """How many of the flood's requests answered while `probe` ran: with pools of their
    own, the one holding the thread and a few more while the probe shares the GIL with
    it (2-4 here, on a loaded machine); in a pool shared with the flood, the probe waits
    behind most of it (13 steps before a static file, 31 heavy requests before a step,
    measured with the pools turned off)."""
    before = sum(f.done() for f in flood)
    probe()
    return sum(f.done() for f in flood) - before


def test_static_files_answer_while_steps_wait_for_the_api_thread(server, http):
    sids = [_create(http) for _ in range(FLOOD)]

    def full_pass(c: httpx.Client, i: int) -> httpx.Response:
        return c.post(f"/api/sessions/{sids[i]}/steps", json=PASS)

    answers: list[httpx.Response] = []
    pool, steps = _flood(server, FLOOD, full_pass)
    with pool:
        for path in ("/static/js/api.js", "/healthz"):
            meanwhile = _finished_meanwhile(steps, lambda p=path: answers.append(http.get(p)))
            assert meanwhile <= WAITED_FOR_AT_MOST, f"{path} waited for {meanwhile} steps"
        waiting = sum(not f.done() for f in steps)
        assert {f.result().status_code for f in steps} == {200}
    assert [r.status_code for r in answers] == [200, 200]
    assert waiting > FLOOD // 2, f"only {waiting} steps still waited: they did not queue"


def _heavy(c: httpx.Client, i: int) -> httpx.Response:
    """A descent at the limits, and every fourth a create."""
    if i % 4 == 3:
        return c.post("/api/sessions", json={"preset": "digits-cnn"})
    return c.post("/api/lab/descent", json=DESCENT)


def test_a_step_answers_while_heavy_requests_wait_for_the_heavy_thread(server, http):
    sid = _create(http, "conv-basics")
    steps: list[httpx.Response] = []
    pool, heavy = _flood(server, FLOOD, _heavy)
    with pool:
        step = lambda: steps.append(http.post(f"/api/sessions/{sid}/steps", json={"count": 1}))  # noqa: E731
        meanwhile = _finished_meanwhile(heavy, step)
        waiting = sum(not f.done() for f in heavy)
        answers = [f.result() for f in heavy]
    assert steps[0].status_code == 200, steps[0].text
    assert meanwhile <= WAITED_FOR_AT_MOST, f"the step waited for {meanwhile} heavy requests"
    assert waiting > FLOOD // 2, f"only {waiting} heavy requests still waited"
    assert {r.status_code for r in answers} == {200, 201}


def test_a_step_whose_client_gave_up_while_it_waited_is_not_applied(server, http):
    sids = [_create(http) for _ in range(FLOOD)]
    victim = _create(http, "conv-basics")
    route = "/api/sessions/{sid}/steps"
    before = _abandoned(http, route)

    def full_pass(c: httpx.Client, i: int) -> httpx.Response:
        return c.post(f"/api/sessions/{sids[i]}/steps", json=PASS)

    pool, steps = _flood(server, FLOOD, full_pass)
    with pool:
        with pytest.raises(httpx.TimeoutException):
            http.post(f"/api/sessions/{victim}/steps", json={"count": 1}, timeout=0.2)
        waiting = sum(not f.done() for f in steps)
        assert {f.result().status_code for f in steps} == {200}
    assert waiting > 0, "the flood had ended before the step gave up: it did not wait"
    assert http.get(f"/api/sessions/{victim}").json()["cursor"] == 0  # never ran
    assert _abandoned(http, route) == before + 1


def _sessions(http: httpx.Client) -> float:
    held = re.search(r"^glassbox_sessions_live (\S+)$", http.get("/metrics").text, re.M)
    assert held is not None
    return float(held.group(1))


def test_a_create_whose_client_gave_up_while_it_waited_makes_no_session(server, http):
    route = "/api/sessions"
    before, held = _abandoned(http, route), _sessions(http)
    pool, heavy = _flood(server, FLOOD, _heavy)
    with pool:
        with pytest.raises(httpx.TimeoutException):
            http.post("/api/sessions", json={"preset": "conv-basics"}, timeout=0.2)
        answers = [f.result() for f in heavy]
    assert {r.status_code for r in answers} == {200, 201}
    assert _abandoned(http, route) == before + 1
    made = sum(r.status_code == 201 for r in answers)
    assert _sessions(http) == held + made  # the flood's; none for the one given up
