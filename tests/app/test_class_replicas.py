"""A live class across two replicas on one Redis (a real redis-server): the teacher
creates the class and steps through server A; students join, follow, and answer
through server B. B's streams carry A's changes (Redis pub/sub), A's tally counts
B's students and answers, and A's reveal and end reach B's followers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis

from app.classes.questions import NUMBER_ABS_TOL, NUMBER_REL_TOL
from tests.app.test_class_stream import VIEW, Teacher, follow, join
from tests.processes import app_server


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[str, str]]:
    """Two server processes (own data folders) on one Redis database."""
    url = redis_url.rsplit("/", 1)[0] + "/2"  # the store tests flush 0, test_multiprocess 1
    with redis.Redis.from_url(url) as r:
        r.flushdb()
    tmp: Path = tmp_path_factory.mktemp("class-replicas")
    env = {"GLASSBOX_STORE": url, "GLASSBOX_WARM_UP": "false"}
    with ExitStack() as stack:
        a = stack.enter_context(app_server(tmp / "a", env))
        b = stack.enter_context(app_server(tmp / "b", env))
        yield a, b


def test_teacher_on_one_replica_students_on_the_other(replicas: tuple[str, str]) -> None:
    a, b = replicas
    teacher = Teacher(a, VIEW)
    code = teacher.code
    with ExitStack() as stack:
        on_b = stack.enter_context(httpx.Client(base_url=b, timeout=30, trust_env=False))
        stack.callback(teacher.close)
        assert on_b.get(f"/api/classes/{code}").json()["view"] == VIEW
        tokens = [join(b, code) for _ in range(3)]
        students = [{"Authorization": f"Bearer {t}"} for t in tokens]
        follower = stack.enter_context(follow(b, code, tokens[0], mode="follow"))
        explorer = stack.enter_context(follow(b, code, tokens[1], mode="explore"))
        assert follower.next()["seq"] == explorer.next()["seq"] == 1

        # A's steps reach B's followers, in order.
        for frame in (1, 2, 3):
            seq = teacher.view(frame)
            got = follower.next()
            assert (got["seq"], got["view"]["frame"]) == (seq, frame)
        assert explorer.until_seq(seq)[-1]["view"]["frame"] == 3
        tally = teacher.call("GET", "/tally").json()
        assert (tally["joined"], tally["following"], tally["exploring"]) == (3, 2, 1)
        # Only the teacher's token changes the class, on any replica.
        r = on_b.put(f"/api/classes/{code}/view", json=VIEW, headers=students[0])
        assert r.status_code == 403 and r.json()["code"] == "class_teacher_only"

        # A question asked on A about the teacher's session (kept in Redis too).
        sid = teacher.c.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
        stepped = on_b.post(f"/api/sessions/{sid}/steps", json={"count": 1})
        assert stepped.status_code == 200, stepped.text
        where = {"tensor": "conv1.out", "index": "0,0,2,2"}
        value = on_b.get(f"/api/sessions/{sid}/explain", params=where).json()["value"]
        ask = {"kind": "number", "session": sid, "tensor": "conv1.out", "index": [0, 0, 2, 2]}
        asked = teacher.call("POST", "/questions", json=ask).json()
        qid = asked["question"]["id"]
        got = follower.next()
        assert got["seq"] == asked["seq"] and got["question"]["id"] == qid
        assert got["question"]["revealed"] is None
        wrong = value + 3 * (NUMBER_ABS_TOL + NUMBER_REL_TOL * abs(value))
        for who, number in zip(students, (value, value, wrong), strict=True):
            r = on_b.post(f"/api/classes/{code}/questions/{qid}/answers", json={"number": number},
                          headers=who)  # fmt: skip
            assert r.status_code == 202, r.text
        tally = teacher.call("GET", "/tally").json()["question"]
        assert (tally["id"], tally["total"], tally["right"]) == (qid, 3, None)

        revealed = teacher.call("POST", f"/questions/{qid}/reveal", json={}).json()
        got = follower.next()
        assert got["question"]["revealed"] == revealed["question"]["revealed"]
        assert got["question"]["revealed"]["value"] == value
        assert explorer.until_seq(got["seq"])[-1]["question"]["revealed"]["value"] == value
        mine = [on_b.get(f"/api/classes/{code}/questions/{qid}/mine", headers=s).json()
                for s in students]  # fmt: skip
        assert [m["correct"] for m in mine] == [True, True, False]
        assert teacher.call("GET", "/tally").json()["question"]["right"] == 2

        # A student's page that reconnects on B gets the current state at once.
        with follow(b, code, tokens[2]) as again:
            assert again.next()["seq"] == got["seq"]

        teacher.call("DELETE", "")
        for stream in (follower, explorer):
            assert stream.next()["ended"] is True and stream.rest() == []
        r = on_b.post(f"/api/classes/{code}/students", json={})
        assert r.status_code == 410 and r.json()["code"] == "class_ended"
