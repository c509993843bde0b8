"""Issue 15's cost attacks replayed against a real server: each is a 422 naming the
limit, answered within ANSWER_SECONDS, and the server's memory (its process tree's
peak resident set, from /proc) grows by less than MEMORY_BUDGET_MB."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from tests.abuse.conftest import ANSWER_SECONDS, MEMORY_BUDGET_MB, Server
from tests.app.test_bad_input import npz as zip_members
from tests.app.test_cost_limits import CONV_12, LSTM_IN_LAYERS, DENSE_4x4096, png, spec_npz


def bounded(server: Server, http: httpx.Client, path: str, body: Any) -> httpx.Response:
    """POST `body`, checking the answer's time and what it cost the server in memory."""
    before = server.rss_mb()
    start = time.monotonic()
    r = http.post(path, json=body)
    took = time.monotonic() - start
    assert took < ANSWER_SECONDS, f"{path} answered in {took:.1f} s"
    peak, now = server.peak_mb(), server.rss_mb()
    assert peak - before < MEMORY_BUDGET_MB, f"peak {peak:.0f} MB from {before:.0f} MB"
    assert now - before < MEMORY_BUDGET_MB, f"{now:.0f} MB after, {before:.0f} MB before"
    return r


def refused(server: Server, http: httpx.Client, body: dict, limit: str) -> str:
    r = bounded(server, http, "/api/sessions", body)
    assert r.status_code == 422, r.text[:300]
    detail = str(r.json()["detail"])
    assert limit in detail and f"GLASSBOX_LIMIT_{limit.upper()}" in detail, detail
    return detail


def test_4x4096_dense_spec(server, http):
    body = {"network": DENSE_4x4096, "input": {"array": [[0.0] * 4096]}}
    assert "67125248" in refused(server, http, body, "max_params")


def test_12_conv_layers_32x7x7(server, http):
    body = {"network": CONV_12, "input": {"array": [[[[0.0]]]]}}
    assert "557024" in refused(server, http, body, "max_params")


def test_weights_npz_16000x16000(server, http):
    spec = {"input_shape": [16000], "layers": [
        {"type": "dense", "in_features": 16000, "out_features": 16000}]}  # fmt: skip
    body = {"weights_npz": spec_npz(spec), "input": {"array": [0.0]}}
    refused(server, http, body, "max_features")


def test_weights_npz_zip_bomb(server, http):
    bomb = zip_members({"__spec__.npy": b"\0" * 50_000_000})  # 50 MB of zeros
    assert len(base64.b64decode(bomb)) < 100_000
    body = {"weights_npz": bomb, "input": {"array": [0.0]}}
    assert "50000" in refused(server, http, body, "max_npz_bytes")


def test_weights_npz_with_an_lstm_in_a_plain_layer_list(server, http):
    body = {"weights_npz": spec_npz(LSTM_IN_LAYERS), "input": {"array": [0.0]}}
    r = bounded(server, http, "/api/sessions", body)
    assert r.status_code == 422 and "cannot be priced" in str(r.json()["detail"]), r.text


def test_4096x4096_png(server, http):
    assert http.post("/api/sessions", json={"preset": "digits-cnn"}).status_code == 201
    big = png(4096)  # 16.8 million pixels in a 22 KB file
    body = {"preset": "digits-cnn", "input": {"image": {"png": big}}}
    refused(server, http, body, "max_image_pixels")


def test_a_gif_is_not_read(server, http):
    body = {"preset": "digits-cnn", "input": {"image": {"png": png(16, "GIF")}}}
    r = bounded(server, http, "/api/sessions", body)
    assert r.status_code == 422 and "PNG or JPEG" in str(r.json()["detail"]), r.text


def test_until_beyond_max_steps_per_request(server, http):
    """This server allows 30 steps a request; a whole memory-lstm pass is more."""
    sid = http.post("/api/sessions", json={"preset": "memory-lstm"}).json()["id"]
    r = bounded(server, http, f"/api/sessions/{sid}/steps", {"until": "update"})
    assert r.status_code == 422 and "max_steps_per_request" in str(r.json()["detail"])
    assert http.get(f"/api/sessions/{sid}").json()["cursor"] == 0
    r = bounded(server, http, f"/api/sessions/{sid}/steps", {"until": "forward"})
    assert r.status_code == 200 and len(r.json()["steps"]) == 21  # T = 20, then the head
