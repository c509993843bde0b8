"""A live class's event stream through real uvicorn processes: the current state at
once, the teacher's changes in order (only the newest if they come quickly, never
an older one after a newer), the current state again on reconnect, the end; and two
server processes on one SQLite file (as one machine's workers): a student following
through one hears the changes made through the other."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from tests.processes import app_server

WAIT_S = 5.0  # the longest a change may take to reach a follower here (a loaded CI box)
VIEW = {"page": "convolution", "query": "k=3", "frame": 0, "cell": None, "present": False}


class Stream:
    """One follower: GET .../events read as Server-Sent Events, one state at a time."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self.response = response
        self._lines = response.iter_lines()
        self.done = False

    def next(self) -> dict[str, Any]:
        """The next state event (httpx.ReadTimeout if none comes within WAIT_S)."""
        event = None
        for line in self._lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "state":
                return json.loads(line[6:])
        self.done = True
        raise AssertionError("the stream ended")

    def until_seq(self, seq: int) -> list[dict[str, Any]]:
        """States up to the one with `seq`; each a newer seq than the one before."""
        got = [self.next()]
        while got[-1]["seq"] < seq:
            got.append(self.next())
        seqs = [s["seq"] for s in got]
        assert seqs == sorted(set(seqs)) and seqs[-1] == seq, seqs
        return got

    def rest(self) -> list[str]:
        """The lines left (not blank) once the server ends the stream."""
        return [line for line in self._lines if line]


@contextmanager
def follow(url: str, code: str, token: str | None = None, **params: str) -> Iterator[Stream]:
    if token:
        params["token"] = token
    timeout = httpx.Timeout(WAIT_S, connect=WAIT_S)
    with (
        httpx.Client(base_url=url, timeout=timeout, trust_env=False) as c,
        c.stream("GET", f"/api/classes/{code}/events", params=params) as r,
    ):
        yield Stream(r)


class Teacher:
    """A class started through one server: its code and its changes (any server)."""

    def __init__(self, url: str, view: dict[str, Any] | None = None) -> None:
        self.c = httpx.Client(base_url=url, timeout=30, trust_env=False)
        r = self.c.post("/api/classes", json={"view": view} if view else {})
        assert r.status_code == 201, r.text
        self.code, self.token = r.json()["code"], r.json()["teacher_token"]
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, url: str | None = None, **kw: Any) -> httpx.Response:
        full = (url or "") + f"/api/classes/{self.code}{path}"
        r = self.c.request(method, full, headers=self.auth, **kw)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r

    def view(self, frame: int, url: str | None = None) -> int:
        """Step the teacher's view to `frame`; the class's new seq."""
        return self.call("PUT", "/view", url, json={**VIEW, "frame": frame}).json()["seq"]

    def close(self) -> None:
        self.c.close()


def join(url: str, code: str) -> str:
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as c:
        r = c.post(f"/api/classes/{code}/students", json={"nickname": "pat"})
        assert r.status_code == 201, r.text
        return r.json()["student_token"]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two server processes on one SQLite file, as one machine's two workers."""
    tmp = tmp_path_factory.mktemp("class-stream")
    env = {"GLASSBOX_DATA_DIR": str(tmp / "shared"), "GLASSBOX_WARM_UP": "false"}
    (tmp / "shared").mkdir()
    with ExitStack() as stack:
        a = stack.enter_context(app_server(tmp / "a", env))
        b = stack.enter_context(app_server(tmp / "b", env))
        yield a, b


def test_a_follower_gets_the_state_at_once_then_every_change_in_order(
    two_workers: tuple[str, str],
) -> None:
    url = two_workers[0]
    teacher = Teacher(url, VIEW)
    token = join(url, teacher.code)
    try:
        with follow(url, teacher.code, token, mode="follow") as s:
            began = time.monotonic()
            first = s.next()
            assert time.monotonic() - began < WAIT_S
            assert (first["code"], first["seq"], first["view"]) == (teacher.code, 1, VIEW)
            assert teacher.token not in json.dumps(first) and token not in json.dumps(first)

            began = time.monotonic()
            seq = teacher.view(1)
            got = s.next()
            took = time.monotonic() - began
            assert (got["seq"], got["view"]["frame"]) == (seq, 1)
            assert took < 2.0, f"a step took {took:.3f} s to reach a follower"

            # Quick changes: the newest arrives; any before it in order (coalesced or not).
            for frame in range(2, 7):
                seq = teacher.view(frame)
            seq = teacher.call("PATCH", "", json={"locked": True}).json()["seq"]
            states = s.until_seq(seq)
            assert states[-1]["locked"] is True and states[-1]["view"]["frame"] == 6
            assert all(st["view"]["frame"] == st["seq"] - 1 for st in states[:-1]), states

            tally = teacher.call("GET", "/tally").json()
            assert (tally["following"], tally["exploring"], tally["joined"]) == (1, 0, 1)

        # Away while the teacher steps on; back: the current state at once.
        seq = teacher.view(9)
        with follow(url, teacher.code, token, mode="explore") as s:
            now = s.next()
            assert (now["seq"], now["view"]["frame"], now["locked"]) == (seq, 9, True)
            tally = teacher.call("GET", "/tally").json()
            assert (tally["following"], tally["exploring"]) == (0, 1)
            ask = {"kind": "choice", "lab": {"surface": "bowl", "start": [-4.5, 2.0],
                                            "steps": 50, "run": {"lr": 0.01}}}  # fmt: skip
            asked = teacher.call("POST", "/questions", json=ask).json()
            got = s.next()
            assert got["seq"] == asked["seq"] and got["question"]["id"] == asked["question"]["id"]
            assert got["question"]["revealed"] is None
            qid = got["question"]["id"]
            revealed = teacher.call("POST", f"/questions/{qid}/reveal", json={}).json()
            got = s.next()
            assert got["question"]["revealed"] == revealed["question"]["revealed"] is not None

            teacher.call("DELETE", "")
            end = s.next()
            assert end["ended"] is True and end["seq"] > got["seq"] and end["question"] is None
            assert s.rest() == []  # and the server closes the stream
        # A page that reconnects after the end hears of the end, and the stream closes.
        with follow(url, teacher.code, token) as s:
            assert s.next()["ended"] is True and s.rest() == []
    finally:
        teacher.close()


def test_a_projector_without_a_token_follows_and_a_bad_code_is_no_stream(
    two_workers: tuple[str, str],
) -> None:
    url = two_workers[0]
    teacher = Teacher(url)
    try:
        with follow(url, teacher.code) as s:
            assert s.next()["view"] is None
            seq = teacher.view(4)
            assert s.next()["seq"] == seq
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as c:
            r = c.get("/api/classes/NOSUCH/events")
            assert r.status_code == 404 and r.json()["code"] == "class_not_found"
            r = c.get(f"/api/classes/{teacher.code}/events", params={"mode": "sleep"})
            assert r.status_code == 422
        # Nobody joined: a projector's stream is not a student.
        assert teacher.call("GET", "/tally").json()["joined"] == 0
    finally:
        teacher.close()


def test_a_follower_on_one_worker_hears_changes_made_through_the_other(
    two_workers: tuple[str, str],
) -> None:
    a, b = two_workers
    teacher = Teacher(a, VIEW)
    token = join(b, teacher.code)
    try:
        with follow(b, teacher.code, token) as on_b, follow(a, teacher.code) as on_a:
            assert on_b.next()["seq"] == on_a.next()["seq"] == 1
            for frame in (1, 2, 3):
                began = time.monotonic()
                seq = teacher.view(frame)  # through A
                got = on_b.next()
                took = time.monotonic() - began
                assert (got["seq"], got["view"]["frame"]) == (seq, frame)
                assert took < 2.0, f"a step took {took:.3f} s to reach the other worker"
                assert on_a.until_seq(seq)[-1]["view"]["frame"] == frame
            seq = teacher.view(7, url=b)  # the same teacher, through B: A's follower hears it
            assert on_a.until_seq(seq)[-1]["view"]["frame"] == 7
            assert on_b.until_seq(seq)[-1]["view"]["frame"] == 7
            teacher.call("DELETE", "")
            assert on_b.next()["ended"] is True and on_b.rest() == []
            assert on_a.next()["ended"] is True and on_a.rest() == []
    finally:
        teacher.close()
