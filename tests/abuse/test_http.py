"""Issue 15's small HTTP attacks replayed against a real server: NaN named by its field,
a cross-site text/plain write refused without stepping, HEAD on pages, a 405 that says
what is allowed, no `server` header, and a huge body on a GET not read into memory."""

from __future__ import annotations

import json
from collections.abc import Iterator

from tests.abuse.conftest import MEMORY_BUDGET_MB
from tests.app.test_http_rules import DENSE, JSON


def test_nan_in_a_number_is_a_422_naming_its_field(http):
    spec = json.dumps({"network": DENSE, "input": {"array": [[0.5, 1.0]], "target": [[0, 1]]}})
    for text in ("NaN", "Infinity", "-Infinity"):
        r = http.post("/api/sessions", content=spec.replace("0.1", text).encode(), headers=JSON)
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert [d["loc"] for d in detail] == [["body", "network", "layers", 1, "slope"]]
        assert "only finite numbers" in detail[0]["msg"]


def test_a_text_plain_step_is_a_415_and_the_cursor_does_not_move(http):
    sid = http.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    for body in (b"", b'{"count": 3}'):
        r = http.post(f"/api/sessions/{sid}/steps", content=body,
                      headers={"content-type": "text/plain"})  # fmt: skip
        assert r.status_code == 415 and "application/json" in r.json()["detail"], r.text
    assert http.get(f"/api/sessions/{sid}").json()["cursor"] == 0
    assert http.post(f"/api/sessions/{sid}/steps", json={"count": 3}).status_code == 200
    assert http.get(f"/api/sessions/{sid}").json()["cursor"] == 3


def test_head_of_a_page_is_a_200_without_a_body(http):
    head, page = http.head("/"), http.get("/")
    assert head.status_code == page.status_code == 200
    assert head.content == b"" and head.headers["content-length"] == str(len(page.content))


def test_a_405_names_what_is_allowed(http):
    r = http.post("/")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    r = http.get("/api/sessions")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_no_answer_names_the_server(http):
    text = {"content-type": "text/plain"}
    answers = [http.get("/healthz"), http.head("/"), http.post("/"), http.get("/nope"),
               http.post("/api/sessions", content=b"x", headers=text)]  # fmt: skip
    assert [r.status_code for r in answers] == [200, 200, 405, 404, 415]
    for r in answers:
        assert "server" not in r.headers and "date" in r.headers


def test_a_huge_body_on_a_get_or_delete_is_not_held_in_memory(server, http):
    """Only a write's body is read (and bounded, 413); one sent with a GET or DELETE is
    dropped as it arrives, however large."""
    chunk, chunks = b"x" * (1 << 20), 2 * MEMORY_BUDGET_MB  # twice the budget each time

    def body() -> Iterator[bytes]:
        for _ in range(chunks):
            yield chunk

    before = server.rss_mb()
    got = http.request("GET", "/api/presets", content=body())
    assert got.status_code == 200 and got.json()
    gone = http.request("DELETE", "/api/sessions/nope", content=body())
    assert gone.status_code == 404
    assert server.rss_mb() - before < MEMORY_BUDGET_MB / 2
