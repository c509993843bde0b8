"""The live class's API: the lifecycle (create, join, view, lock, end), who may do
what (teacher token, student token, nobody), expiry, join codes as typed and as
guessed, and the student cap. Questions are in test_api_class_questions.py, the
event streams in test_class_stream.py, two replicas on Redis in test_class_replicas.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.classes.model import CODE_LENGTH, new_record, token_hash
from app.i18n import SUPPORTED, t
from app.main import create_app
from app.settings import Settings

VIEW = {"page": "pooling", "query": "size=2", "frame": 2, "cell": None, "present": False}
READ_ALIKE = set("0O1IL")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("classes")
    with TestClient(create_app(Settings(data_dir=data, warm_up=False))) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start(c: TestClient, view: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    r = c.post("/api/classes", json={"view": view} if view else {})
    assert r.status_code == 201, r.text
    return r.json()["code"], bearer(r.json()["teacher_token"])


def join(c: TestClient, code: str, nickname: str = "") -> dict[str, str]:
    r = c.post(f"/api/classes/{code}/students", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    return bearer(r.json()["student_token"])


def coded(r: Any, status: int, code: str) -> dict[str, Any]:
    """The error body of `r`, checked: its status, its code, and its message in every
    language from the catalog."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == code, body
    assert set(body["message"]) == set(SUPPORTED) and all(body["message"].values())
    return body


def test_a_class_from_creation_to_its_end(api: TestClient) -> None:
    r = api.post("/api/classes", json={"view": VIEW})
    assert r.status_code == 201, r.text
    made = r.json()
    code, teacher = made["code"], bearer(made["teacher_token"])
    assert len(code) == CODE_LENGTH and code.isupper() and code.isalnum()
    assert not READ_ALIKE & set(code), code
    assert made["join_path"] == f"/join/{code}" and made["join_url"].endswith(made["join_path"])
    state = made["state"]
    assert (state["code"], state["seq"], state["view"], state["ended"]) == (code, 1, VIEW, False)
    assert made["teacher_token"] not in json.dumps(state)
    assert api.get(f"/api/classes/{code}").json() == state

    qr = api.get(made["qr_svg"])
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content and made["join_url"].encode() in qr.content
    go = api.get(made["join_path"], follow_redirects=False)
    assert go.status_code == 303
    assert go.headers["location"] == f"/learn/pooling?size=2&class={code}"

    r = api.post(f"/api/classes/{code}/students", json={"nickname": " Ann "})
    assert r.status_code == 201, r.text
    ann = bearer(r.json()["student_token"])
    assert r.json()["code"] == code and r.json()["state"] == state
    assert made["teacher_token"] not in r.text
    assert r.json()["student_token"] != made["teacher_token"]
    bob = join(api, code)

    seq = state["seq"]
    for frame in (3, 4):
        r = api.put(f"/api/classes/{code}/view", json={**VIEW, "frame": frame}, headers=teacher)
        assert r.status_code == 200, r.text
        assert r.json()["seq"] == seq + 1 and r.json()["view"]["frame"] == frame
        seq = r.json()["seq"]
    cell = {"tensor": "pool1.out", "index": [0, 0, 1, 1]}
    view = {**VIEW, "cell": cell, "present": True}
    r = api.put(f"/api/classes/{code}/view", json=view, headers=teacher)
    assert r.json()["view"] == view and r.json()["seq"] == seq + 1
    r = api.patch(f"/api/classes/{code}", json={"locked": True}, headers=teacher)
    assert r.status_code == 200 and r.json()["locked"] is True and r.json()["seq"] == seq + 2
    got = api.get(f"/api/classes/{code.lower()}").json()
    assert got == r.json() and made["teacher_token"] not in json.dumps(got)
    # The join link now opens the teacher's current page.
    go = api.get(f"/join/{code}", follow_redirects=False)
    assert go.headers["location"] == f"/learn/pooling?size=2&class={code}"

    assert api.put(f"/api/classes/{code}/students/me", json={"mode": "explore"},
                   headers=bob).status_code == 204  # fmt: skip
    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()
    assert (tally["joined"], tally["following"], tally["exploring"]) == (2, 1, 1)
    assert tally["seq"] == seq + 2 and tally["question"] is None
    assert api.put(f"/api/classes/{code}/students/me", json={"mode": "follow"},
                   headers=bob).status_code == 204  # fmt: skip
    tally = api.get(f"/api/classes/{code}/tally", headers=teacher).json()
    assert (tally["following"], tally["exploring"]) == (2, 0)

    r = api.delete(f"/api/classes/{code}", headers=teacher)
    assert r.status_code == 204 and r.content == b""
    gone = api.get(f"/api/classes/{code}").json()
    assert gone["ended"] is True and gone["seq"] == seq + 3 and gone["view"] is None
    coded(api.post(f"/api/classes/{code}/students", json={}), 410, "class_ended")
    coded(api.put(f"/api/classes/{code}/view", json=VIEW, headers=teacher), 410, "class_ended")
    coded(api.delete(f"/api/classes/{code}", headers=teacher), 410, "class_ended")
    coded(api.put(f"/api/classes/{code}/students/me", json={"mode": "follow"}, headers=ann),
          410, "class_ended")  # fmt: skip
    coded(api.get(f"/api/classes/{code}/qr.svg"), 410, "class_ended")
    assert api.get(f"/join/{code}", follow_redirects=False).headers["location"] == (
        f"/?class={code}"
    )


def test_a_join_without_a_view_or_with_an_unknown_code_opens_the_home_page(
    api: TestClient,
) -> None:
    code, _ = start(api)
    r = api.get(f"/join/{code.lower()}", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/?class={code}")
    r = api.get("/join/" + "x" * 300, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?class=" + "X" * 16


def test_only_the_teacher_token_changes_the_class(api: TestClient) -> None:
    code, teacher = start(api, VIEW)
    student = join(api, code)
    other_code, other_teacher = start(api)
    other_student = join(api, other_code)
    lab = {"surface": "bowl", "start": [-4.5, 2.0], "steps": 50, "run": {"lr": 0.1}}
    ask = {"kind": "choice", "lab": lab}
    q = api.post(f"/api/classes/{code}/questions", headers=teacher, json=ask)
    assert q.status_code == 201, q.text
    qid = q.json()["question"]["id"]
    changes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", f"/api/classes/{code}/view", {**VIEW, "frame": 9}),
        ("PATCH", f"/api/classes/{code}", {"locked": True}),
        ("DELETE", f"/api/classes/{code}", None),
        ("POST", f"/api/classes/{code}/questions", ask),
        ("POST", f"/api/classes/{code}/questions/{qid}/reveal", {}),
        ("DELETE", f"/api/classes/{code}/questions/{qid}", None),
        ("GET", f"/api/classes/{code}/tally", None),
    ]
    for method, path, body in changes:
        for who in (student, other_teacher, other_student, bearer("made-up")):
            r = api.request(method, path, json=body, headers=who)
            coded(r, 403, "class_teacher_only")
        for nobody in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer  "}):
            coded(api.request(method, path, json=body, headers=nobody), 401, "class_token_missing")
    # Nothing changed: the class is as the teacher left it.
    state = api.get(f"/api/classes/{code}").json()
    assert (state["seq"], state["view"], state["locked"], state["ended"]) == (2, VIEW, False, False)
    assert state["question"]["id"] == qid and state["question"]["revealed"] is None

    # The teacher is not a student: no answers, no presence; nor is a student of another class.
    answer = f"/api/classes/{code}/questions/{qid}/answers"
    for who in (teacher, other_student, other_teacher, {}):
        coded(api.post(answer, json={"choice": "good"}, headers=who), 403, "class_student_only")
        coded(api.get(f"/api/classes/{code}/questions/{qid}/mine", headers=who), 403,
              "class_student_only")  # fmt: skip
        coded(api.put(f"/api/classes/{code}/students/me", json={"mode": "explore"}, headers=who),
              403, "class_student_only")  # fmt: skip
    assert api.post(answer, json={"choice": "good"}, headers=student).status_code == 202
    # A student's token does not make them the teacher of their own class either.
    coded(api.get(f"/api/classes/{other_code}/tally", headers=other_student), 403,
          "class_teacher_only")  # fmt: skip


def test_a_class_past_its_time_to_live_is_gone_and_its_code_free(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, warm_up=False, class_ttl_seconds=60)
    with TestClient(create_app(settings)) as c:
        code, teacher = start(c, VIEW)
        student = join(c, code)
        store = c.app.state.classes.store  # type: ignore[attr-defined]
        store.update(code, lambda r: None, 0.3)  # a real, short time to live
        assert c.get(f"/api/classes/{code}").status_code == 200
        time.sleep(0.5)
        coded(c.get(f"/api/classes/{code}"), 404, "class_not_found")
        coded(c.put(f"/api/classes/{code}/view", json=VIEW, headers=teacher), 404,
              "class_not_found")  # fmt: skip
        coded(c.put(f"/api/classes/{code}/students/me", json={"mode": "follow"}, headers=student),
              404, "class_not_found")  # fmt: skip
        coded(c.post(f"/api/classes/{code}/students", json={}), 404, "class_not_found")
        # Its code is free: a new class may have it, and the old tokens are nobody there.
        assert store.create(code, token_hash("new"), new_record(code, None), 60)
        coded(c.put(f"/api/classes/{code}/view", json=VIEW, headers=teacher), 403,
              "class_teacher_only")  # fmt: skip
        coded(c.put(f"/api/classes/{code}/students/me", json={"mode": "follow"}, headers=student),
              403, "class_student_only")  # fmt: skip


def test_an_unknown_code_is_a_plain_404_in_both_languages(api: TestClient) -> None:
    for typed in ("ABCDEF", "abc", "A" * 16, "%00%00", "Z2-Z2-Z2", "OOOOOO"):
        body = coded(api.get(f"/api/classes/{typed}"), 404, "class_not_found")
        assert body["message"] == {lang: t("error.class_not_found", lang) for lang in SUPPORTED}
    r = api.get("/api/classes/" + "A" * 17)  # longer than any code: the path's own 422
    assert r.status_code == 422, r.text
    code, _ = start(api)
    typed = f" {code[:3].lower()}-{code[3:]}"  # as read aloud and typed: normalised
    assert api.get(f"/api/classes/{typed}").json()["code"] == code
    assert api.post(f"/api/classes/{typed}/students", json={}).json()["code"] == code


def test_guessing_codes_is_stopped_with_429_and_retry_after(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, warm_up=False, class_code_misses_per_minute=3)
    with TestClient(create_app(settings)) as c:
        code, _ = start(c)
        for guess in ("AAAAAA", "BBBBBB", "CCCCCC"):
            coded(c.get(f"/api/classes/{guess}"), 404, "class_not_found")
        for guess in ("DDDDDD", "EEEEEE"):
            for r in (c.get(f"/api/classes/{guess}"), c.post(f"/api/classes/{guess}/students",
                                                             json={})):  # fmt: skip
                body = coded(r, 429, "class_code_guesses")
                assert 1 <= int(r.headers["Retry-After"]) <= 60 and "3" in body["detail"]
        assert c.get(f"/api/classes/{code}").status_code == 200  # a real code still works


def test_the_class_is_full_at_its_cap(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, warm_up=False, class_max_students=2)
    with TestClient(create_app(settings)) as c:
        code, _ = start(c)
        state = c.get(f"/api/classes/{code}").json()
        assert state["limits"]["max_students"] == 2
        join(c, code, "one")
        join(c, code, "two")
        body = coded(c.post(f"/api/classes/{code}/students", json={}), 409, "class_full")
        assert "2" in body["message"]["en"] and "2" in body["message"]["zh-CN"]


def test_bad_class_bodies_are_clear_4xx(api: TestClient) -> None:
    code, teacher = start(api)
    cases: list[tuple[str, str, Any, int]] = [
        ("POST", "/api/classes", {"view": {**VIEW, "page": "nope"}}, 422),
        ("POST", "/api/classes", {"view": {**VIEW, "frame": -2}}, 422),
        ("POST", "/api/classes", {"extra": 1}, 422),
        ("PUT", f"/api/classes/{code}/view", {"page": "pooling", "cell": {"tensor": "x"}}, 422),
        ("PUT", f"/api/classes/{code}/view", {**VIEW, "query": "q" * 20_000}, 422),
        ("PATCH", f"/api/classes/{code}", {"locked": "maybe"}, 422),
        ("PATCH", f"/api/classes/{code}", {}, 422),
        ("POST", f"/api/classes/{code}/students", {"nickname": "n" * 33}, 422),
        ("PUT", f"/api/classes/{code}/students/me", {"mode": "sleep"}, 422),
    ]
    for method, path, body, status in cases:
        r = api.request(method, path, json=body, headers=teacher)
        assert r.status_code == status, (method, path, body, r.status_code, r.text)
    r = api.request("POST", f"/api/classes/{code}/students", content=b"{}")
    assert r.status_code == 415, r.text  # no Content-Type: JSON (CSRF)
    assert api.get(f"/api/classes/{code}").json()["seq"] == 1


def test_a_view_naming_a_session_names_a_frozen_copy_that_nobody_can_change(
    api: TestClient,
) -> None:
    # A trained BP network's link (or a script's session) in the teacher's view: the
    # students read its id, so the class names a frozen copy instead of the teacher's.
    sid = api.post("/api/sessions", json={"preset": "pooling"}).json()["id"]
    code, teacher = start(api)
    view = {**VIEW, "query": f"kind=max&session={sid}&size=2"}
    query = api.put(f"/api/classes/{code}/view", json=view, headers=teacher).json()["view"]["query"]
    before, snap, after = query.partition("session=")[0], *query.partition("session=")[2].split("&")
    assert (before, after) == ("kind=max&", "size=2") and snap != sid
    frozen = [
        api.delete(f"/api/sessions/{snap}"),
        api.post(f"/api/sessions/{snap}/steps", json={"count": 1}),
        api.post(f"/api/sessions/{snap}/train", json={"epochs": 1}),
    ]
    for r in frozen:
        coded(r, 409, "session_frozen")
    copy = api.post("/api/sessions", json={"copy_of": snap}).json()["id"]  # a student's page
    assert api.post(f"/api/sessions/{copy}/steps", json={"count": 1}).status_code == 200
    assert api.get(f"/api/sessions/{snap}").json()["cursor"] == 0  # the snapshot did not move
    # the same session named again: the same snapshot, no new copy
    again = api.put(f"/api/classes/{code}/view", json={**view, "frame": 3}, headers=teacher)
    assert again.json()["view"]["query"] == query
    assert api.delete(f"/api/sessions/{sid}").status_code == 204  # the original is the teacher's
    coded(api.put(f"/api/classes/{code}/view", json={**view, "query": "session=gone0"},
                  headers=teacher), 422, "class_session_gone")  # fmt: skip
    assert api.delete(f"/api/classes/{code}", headers=teacher).status_code == 204
    assert api.get(f"/api/sessions/{snap}").status_code == 404  # it went with the class
