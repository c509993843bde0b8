"""HTTP rules every route keeps (app/http_rules.py, issue 15): a 405 names the allowed
methods, HEAD works wherever GET does, writes are JSON only (415), NaN and Infinity
are refused naming the field, and a real server does not announce itself."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.processes import app_server

JSON = {"content-type": "application/json"}
DENSE = {"input_shape": [2], "loss": "mse",
         "layers": [{"type": "dense", "in_features": 2, "out_features": 2},
                    {"type": "leaky_relu", "slope": 0.1}]}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/", "GET, HEAD"),
        ("DELETE", "/learn/bp", "GET, HEAD"),
        ("POST", "/static/js/api.js", "GET, HEAD"),
        ("PUT", "/api/rules", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("GET", "/api/sessions", "POST"),
        ("HEAD", "/api/sessions", "POST"),
        ("PATCH", "/api/sessions/abc", "DELETE, GET, HEAD"),
        ("GET", "/api/sessions/abc/steps", "POST"),
    ],
)
def test_a_405_names_every_method_the_path_serves(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/", "/learn/bp", "/static/js/api.js", "/api/rules", "/healthz"])
def test_head_answers_like_get_without_the_body(client, path):
    got, head = client.get(path), client.head(path)
    assert got.status_code == head.status_code == 200 and got.content
    assert head.content == b""
    for name in ("content-type", "content-length"):
        assert head.headers[name] == got.headers[name]


def test_head_of_a_missing_page_or_session_is_a_404(client):
    assert client.head("/learn/nope").status_code == 404
    assert client.head("/api/sessions/abc").status_code == 404
    assert client.head("/static/js/nope.js").status_code == 404


def _cursor(client: TestClient, sid: str) -> int:
    return client.get(f"/api/sessions/{sid}").json()["cursor"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a no-cors fetch with no body
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
    ],
    ids=["none", "text", "form", "multipart"],
)
def test_a_write_that_is_not_json_is_a_415_and_changes_nothing(client, headers):
    """What a cross-site HTML form (or a no-cors fetch) can send cannot step a session."""
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    for body in (b"", b'{"count": 3}'):
        r = client.post(f"/api/sessions/{sid}/steps", content=body, headers=headers)
        assert r.status_code == 415, r.text
        assert "Content-Type: application/json" in r.json()["detail"]
    r = client.put(f"/api/sessions/{sid}/input", content=b"", headers=headers)
    assert r.status_code == 415
    assert client.post("/api/sessions", content=b"", headers=headers).status_code == 415
    assert _cursor(client, sid) == 0


def test_an_empty_json_write_means_the_defaults_and_delete_needs_no_body(client):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/steps", content=b"", headers=JSON)
    assert r.status_code == 200, r.text
    assert _cursor(client, sid) == 1
    typed = {"content-type": "Application/JSON; charset=utf-8"}
    r = client.post(f"/api/sessions/{sid}/steps", content=b'{"count": 2}', headers=typed)
    assert r.status_code == 200 and _cursor(client, sid) == 3
    assert client.delete(f"/api/sessions/{sid}").status_code in (200, 204)
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def _refused(r: httpx.Response, loc: list[object], text: str) -> None:
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", *loc]]
    assert detail[0]["input"] == text and "only finite numbers" in detail[0]["msg"]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "1" * 400])
def test_a_non_finite_number_is_a_422_naming_its_field(client, text):
    def post(path: str, body: str) -> httpx.Response:
        return client.post(path, content=body.replace("X", text).encode(), headers=JSON)

    # a network spec's number
    spec = json.dumps({"network": DENSE, "input": {"array": [[0.5, 1.0]], "target": [[0, 1]]}})
    r = post("/api/sessions", spec.replace("0.1", "X"))
    _refused(r, ["network", "layers", 1, "slope"], text)
    # an input array's number
    r = post("/api/sessions", spec.replace("0.5", "X"))
    _refused(r, ["input", "array", 0, 0], text)
    # a training optimizer's learning rate
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    r = post(f"/api/sessions/{sid}/train", '{"epochs": 1, "optimizer": {"lr": X}}')
    _refused(r, ["optimizer", "lr"], text)
    # a lab request
    r = post("/api/lab/descent", '{"surface": "bowl", "start": [1, X], "runs": [{"lr": 0.1}]}')
    _refused(r, ["start", 1], text)
    assert _cursor(client, sid) == 0


def test_deep_nesting_with_nan_is_not_a_500(client):
    body = ("[" * 100_000) + "NaN" + ("]" * 100_000)
    r = client.post("/api/sessions", content=body.encode(), headers=JSON)
    assert 400 <= r.status_code < 500, r.text


def test_the_word_nan_in_a_string_is_not_a_number(client):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/steps", json={"until": "NaN"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "until"]


def test_a_real_server_sends_no_server_header_and_answers_head(tmp_path: Path):
    with app_server(tmp_path) as url, httpx.Client(base_url=url) as http:
        for r in (http.get("/healthz"), http.head("/"), http.post("/api/sessions")):
            assert "server" not in r.headers and "date" in r.headers
        head, page = http.head("/"), http.get("/")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(page.content))
        assert http.post("/api/sessions").status_code == 415
