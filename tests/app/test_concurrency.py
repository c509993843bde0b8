"""Many requests stepping ONE session at once: never a 500, never a corrupted session.

Within one app the service lock makes requests take turns; two app instances on
one SQLite file (like two worker processes) race through the store's
compare-and-swap, and the loser gets a 409 to retry. Either way the session must
end exactly where some serial order of the successful requests would leave it:
every successful response is one contiguous run of the plan, their versions are
consecutive, and the tensors equal a single-threaded run of as many steps.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from app.sessions.service import SessionService
from app.settings import Settings

# Every tensor in full, so steps from different responses compare one to one.
B64 = {"encoding": "b64", "refs": "false"}
# A mix of sizes, so how many steps a request runs depends on where the pass is
# when its turn comes (count and until both stop at the end of a pass).
BODIES: list[dict[str, Any]] = [{}, {"count": 3}, {}, {"until": "loss"}, {"count": 7}, {}]


def _step_with_retry(client: TestClient, sid: str, body: dict[str, Any]) -> tuple[dict, int]:
    """POST one step request until it is not a 409; the body and how many 409s it met."""
    conflicts = 0
    for _ in range(200):
        r = client.post(f"/api/sessions/{sid}/steps", json=body, params=B64)
        if r.status_code == 409:
            conflicts += 1
            time.sleep(random.uniform(0, 0.002))
            continue
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r.json(), conflicts
    raise AssertionError("200 conflicts in a row for one request")


def _hammer(
    clients: list[TestClient], sid: str, threads: int, per_thread: int, barrier: bool
) -> tuple[list[dict], int]:
    """`threads` threads (thread i uses clients[i % len(clients)]) each sending
    `per_thread` step requests; the successful responses and the 409 count.
    With barrier, the threads start every round together (more races)."""
    ok: list[dict] = []
    conflicts = [0]
    errors: list[BaseException] = []
    lock = threading.Lock()
    rounds = threading.Barrier(threads) if barrier else None

    def work(i: int) -> None:
        client = clients[i % len(clients)]
        try:
            for j in range(per_thread):
                if rounds is not None:
                    rounds.wait(timeout=30)
                out, c = _step_with_retry(client, sid, BODIES[(i + j) % len(BODIES)])
                with lock:
                    ok.append(out)
                    conflicts[0] += c
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            if rounds is not None:
                rounds.abort()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool), "a stepping thread hung"
    assert not errors, errors[0]
    assert len(ok) == threads * per_thread
    return ok, conflicts[0]


def _serial_order(ok: list[dict], plan_len: int) -> list[dict]:
    """Check the responses form one serial history; return its steps in order."""
    ok = sorted(ok, key=lambda o: o["version"])
    # Every successful request wrote exactly one new version (create wrote 1).
    assert [o["version"] for o in ok] == list(range(2, 2 + len(ok)))
    done = 0
    flat: list[dict] = []
    for o in ok:
        idx = [s["index"] for s in o["steps"]]
        assert idx == [(done + k) % plan_len for k in range(len(idx))], (done, idx)
        done += len(idx)
        flat += o["steps"]
        # What the response says about the session is the state right after its steps.
        assert done > 0
        assert o["cursor"] == (done - 1) % plan_len + 1, (o["version"], o["cursor"], done)
        assert o["passes"] == (done - 1) // plan_len, (o["version"], o["passes"], done)
    return flat


def _serial_run(client: TestClient, total: int) -> tuple[str, list[dict]]:
    """A fresh digits-cnn session stepped `total` steps by one thread."""
    s = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()
    plan_len, cursor, steps = len(s["plan"]), 0, []
    while len(steps) < total:
        n = min(total - len(steps), plan_len - cursor if cursor < plan_len else plan_len)
        r = client.post(f"/api/sessions/{s['id']}/steps", json={"count": n}, params=B64)
        assert r.status_code == 200, r.text
        steps += r.json()["steps"]
        cursor = r.json()["cursor"]
    return s["id"], steps


def _same_steps(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (g["index"], g["tensor_names"]) == (w["index"], w["tensor_names"])
        for gt, wt in zip(g["tensors"], w["tensors"], strict=True):
            assert gt["name"] == wt["name"]
            assert gt["data"] == wt["data"], f"step {g['index']}: {gt['name']} differs"


def _recorded(client: TestClient, sid: str) -> tuple[dict, list[dict]]:
    """The session as stored and its current pass's steps, read back."""
    s = client.get(f"/api/sessions/{sid}").json()
    steps = [client.get(f"/api/sessions/{sid}/steps/{k}", params=B64) for k in range(s["cursor"])]
    assert all(r.status_code == 200 for r in steps)
    return s, [r.json() for r in steps]


def _check_against_serial(
    client: TestClient, reopen: Callable[[], TestClient], sid: str, ok: list[dict]
) -> None:
    plan_len = len(client.get(f"/api/sessions/{sid}").json()["plan"])
    flat = _serial_order(ok, plan_len)
    total = sum(len(o["steps"]) for o in ok)
    serial_id, serial = _serial_run(client, total)
    _same_steps(flat, serial)

    # The stored state, read by a fresh app (rebuilt from the store, not a worker's memory).
    with reopen() as fresh:
        s, steps = _recorded(fresh, sid)
        assert s["cursor"] + s["passes"] * plan_len == total
        want_s, want_steps = _recorded(fresh, serial_id)
        assert (s["cursor"], s["passes"], s["loss"]) == (
            want_s["cursor"],
            want_s["passes"],
            want_s["loss"],
        )
        _same_steps(steps, want_steps)
        # The weights after the last update: conv1.w.after of the last pass that updated.
        updates = [st for st in flat if st["layer"] == "conv1" and st["phase"] == "update"]
        serial_updates = [st for st in serial if st["layer"] == "conv1" and st["phase"] == "update"]
        assert updates and updates[-1]["tensors"] == serial_updates[-1]["tensors"]


def test_threads_step_one_session_through_one_app(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        sid = client.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        ok, _ = _hammer([client], sid, threads=8, per_thread=10, barrier=False)
        _check_against_serial(client, lambda: TestClient(create_app(settings)), sid, ok)


def _slow_head(client: TestClient) -> None:
    """The store's head read, then 3 ms: a step reads the version, then runs and writes.
    Since a step writes only its cursor and a hop runs only the missed steps, that
    window is a few ms and two apps in one process rarely meet in it (2-3 races in
    30 rounds, none under load); widened, every round races."""
    store = client.app.state.sessions.store  # type: ignore[attr-defined]
    real = store.head

    def head(sid: str) -> object:
        got = real(sid)
        time.sleep(0.003)
        return got

    store.head = head


def test_two_apps_on_one_sqlite_file_race_through_compare_and_swap(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        _slow_head(a), _slow_head(b)
        sid = a.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        ok, conflicts = _hammer([a, b], sid, threads=2, per_thread=30, barrier=True)
        # Both sides read the same version and raced to write it, round after round:
        # the store's compare-and-swap must have turned some writes away.
        assert conflicts > 0
        _check_against_serial(a, lambda: TestClient(create_app(settings)), sid, ok)


def _pause_after(monkeypatch, name: str) -> tuple[threading.Event, threading.Event]:
    """Make the next call of SessionService.<name> stop after it returns (its session
    lock released, its response not yet built) until `resume` is set: what a thread
    descheduled at that point looks like."""
    paused, resume = threading.Event(), threading.Event()
    real = getattr(SessionService, name)

    def pausing(self: SessionService, *args: Any) -> Any:
        out = real(self, *args)
        if not paused.is_set():
            paused.set()
            resume.wait(timeout=10)
        return out

    monkeypatch.setattr(SessionService, name, pausing)
    return paused, resume


def test_a_step_response_shows_its_own_step_even_if_another_ran_meanwhile(
    tmp_path: Path, monkeypatch
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        ref = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        want = c.post(f"/api/sessions/{ref}/steps", json={"count": 20}, params=B64).json()
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        c.post(f"/api/sessions/{sid}/steps", json={"count": 19})  # one step left in the pass
        paused, resume = _pause_after(monkeypatch, "step")
        first: dict[str, Any] = {}
        t = threading.Thread(
            target=lambda: first.update(r=c.post(f"/api/sessions/{sid}/steps", json={}, params=B64))
        )
        t.start()
        try:
            assert paused.wait(10)
            # Meanwhile a whole new pass runs (same tensor names, new values).
            second = c.post(f"/api/sessions/{sid}/steps", json={"until": "update"}, params=B64)
        finally:
            resume.set()
            t.join(10)
        assert second.status_code == 200
        assert (second.json()["version"], second.json()["cursor"]) == (4, 20)
        r = first["r"]
        assert r.status_code == 200, r.text[:300]
        out = r.json()
        assert (out["version"], out["cursor"], out["passes"]) == (3, 20, 0)
        assert [s["index"] for s in out["steps"]] == [19]
        assert _tensors_of(out["steps"][0]) == _tensors_of(want["steps"][19])


def test_a_recorded_step_is_read_from_its_own_pass(tmp_path: Path, monkeypatch) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        sid = c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        want = c.post(f"/api/sessions/{sid}/steps", json={"count": 20}, params=B64).json()
        paused, resume = _pause_after(monkeypatch, "recorded_step")
        first: dict[str, Any] = {}
        t = threading.Thread(
            target=lambda: first.update(r=c.get(f"/api/sessions/{sid}/steps/19", params=B64))
        )
        t.start()
        try:
            assert paused.wait(10)
            assert c.post(f"/api/sessions/{sid}/steps", json={"count": 3}).status_code == 200
        finally:
            resume.set()
            t.join(10)
        assert first["r"].status_code == 200, first["r"].text[:300]
        assert _tensors_of(first["r"].json()) == _tensors_of(want["steps"][19])


def _tensors_of(step: dict) -> dict[str, str]:
    return {t["name"]: t["data"] for t in step["tensors"]}


def test_a_session_lock_is_one_object_while_anyone_holds_it(tmp_path):
    from app.settings import Settings

    service = create_app(Settings(data_dir=tmp_path)).state.sessions
    held = service.live.lock("victim")
    for i in range(300):  # many other sessions come and go
        service.live.lock(f"other{i}")
    assert service.live.lock("victim") is held
