"""Bad input and limits: a clear 4xx that says what was wrong and which limit."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Limits, Settings


@pytest.fixture
def small(tmp_path):
    """An app with small limits, so each is easy to exceed."""
    limits = Limits(max_batch=2, max_epochs=3, max_iterations=10, max_steps_per_request=4,
                    max_body_bytes=4096, max_lab_steps=50, max_lab_runs=2)  # fmt: skip
    with TestClient(create_app(Settings(data_dir=tmp_path, limits=limits))) as c:
        yield c


def _limit(r, name, allowed, given):
    assert r.status_code == 422, r.text
    item = r.json()["detail"][0]
    assert item["type"] == "limit_exceeded" and item["limit"] == name
    assert item["allowed"] == allowed and item["given"] == given
    assert name in item["msg"] and str(allowed) in item["msg"] and str(given) in item["msg"]
    assert f"GLASSBOX_LIMIT_{name.upper()}" in item["msg"]


@pytest.mark.parametrize(
    ("conv1", "name", "allowed", "given"),
    [
        ({"out_channels": 33}, "max_kernels", 32, 33),
        ({"kernel": 9, "padding": 3}, "max_kernel_size", 7, 9),
        ({"stride": 5}, "max_stride", 4, 5),
        ({"padding": [0, 4]}, "max_padding", 3, 4),
    ],
)
def test_network_limits_on_overrides(client, conv1, name, allowed, given):
    body = {"preset": "digits-cnn", "overrides": {"conv": {"conv1": conv1}}}
    _limit(client.post("/api/sessions", json=body), name, allowed, given)


def _net(input_shape, layers):
    return {"network": {"input_shape": input_shape, "layers": layers},
            "input": {"array": [0.0], "target": [0]}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "name", "allowed", "given"),
    [
        (_net([1, 65, 8], [{"type": "flatten"}]), "max_input_side", 64, 65),
        (_net([4, 8, 8], [{"type": "flatten"}]), "max_input_channels", 3, 4),
        (_net([1, 4, 4], [{"type": "relu"}] * 17), "max_layers", 16, 17),
        (_net([4], [{"type": "dense", "in_features": 4, "out_features": 5000}]),
         "max_features", 4096, 5000),
    ],
)  # fmt: skip
def test_network_limits_on_uploaded_specs(client, body, name, allowed, given):
    _limit(client.post("/api/sessions", json=body), name, allowed, given)


def test_batch_steps_epochs_iterations_and_lab_limits(small):
    sid = small.post("/api/sessions", json={"preset": "digits-cnn"}).json()["id"]
    batch = np.zeros((3, 1, 8, 8)).tolist()
    _limit(small.put(f"/api/sessions/{sid}/input", json={"array": batch, "target": [0, 1, 2]}),
           "max_batch", 2, 3)  # fmt: skip
    _limit(
        small.post(f"/api/sessions/{sid}/steps", json={"count": 5}), "max_steps_per_request", 4, 5
    )
    _limit(small.post(f"/api/sessions/{sid}/train", json={"epochs": 4}), "max_epochs", 3, 4)
    _limit(
        small.post(f"/api/sessions/{sid}/train", json={"iterations": 11}), "max_iterations", 10, 11
    )
    _limit(small.post(f"/api/sessions/{sid}/train", json={"iterations": 1, "batch_size": 3}),
           "max_batch", 2, 3)  # fmt: skip
    lab = {"surface": "bowl", "start": [1.0, 1.0], "runs": [{"lr": 0.1}], "steps": 51}
    _limit(small.post("/api/lab/descent", json=lab), "max_lab_steps", 50, 51)
    lab = {**lab, "steps": 10, "runs": [{"lr": 0.1}] * 3}
    _limit(small.post("/api/lab/descent", json=lab), "max_lab_runs", 2, 3)


def test_a_body_over_the_limit_is_413_naming_the_limit(small):
    big = {"preset": "digits-cnn", "input": {"array": [[0.0] * 2000]}}
    r = small.post("/api/sessions", json=big)
    assert r.status_code == 413 and "max_body_bytes = 4096" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(10):
            yield b" " * 1000

    r = small.post("/api/sessions", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "max_body_bytes = 4096" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"count": False},
        {"count": "3"},
        {"count": 2.5},  # (2.0 is the integer 2: JSON Schema says so, and so does the API)
        {"count": 0},
        {"until": "sideways"},
        {"count": 1, "until": "forward"},
        {"steps": 1},
    ],
)
def test_strict_step_requests(client, body):
    sid = client.post("/api/sessions", json={"preset": "conv-basics"}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/steps", json=body)
    assert r.status_code == 422 and r.json()["detail"]


def test_no_silent_coercion_of_false_to_a_learning_rate(client):
    r = client.post("/api/sessions", json={"preset": "conv-basics", "overrides": {"lr": False}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "lr"


def test_malformed_json_is_a_422_json_invalid(client):
    r = client.post(
        "/api/sessions", content=b'{"preset": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/sessions/{sid}", None),
        ("delete", "/api/sessions/{sid}", None),
        ("post", "/api/sessions/{sid}/steps", {}),
        ("get", "/api/sessions/{sid}/steps/0", None),
        ("get", "/api/sessions/{sid}/tensors/conv1.in", None),
        ("get", "/api/sessions/{sid}/explain?tensor=conv1.in&index=0", None),
        ("put", "/api/sessions/{sid}/input", {"sample": {"index": 0}}),
        ("post", "/api/sessions/{sid}/train", {"iterations": 1}),
        ("delete", "/api/sessions/{sid}/train", None),
    ],
)
def test_unknown_sessions_are_404_on_every_route(client, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    r = getattr(client, method)(path.format(sid="no-such-session-id"), **kwargs)
    assert r.status_code == 404 and "session" in r.json()["detail"]


def test_bad_preset_input_and_optimizer_settings(client):
    r = client.post(
        "/api/sessions", json={"preset": "conv-basics", "input": {"sample": {"index": 0}}}
    )
    assert r.status_code == 422 and "no dataset" in r.json()["detail"]
    r = client.post("/api/sessions", json={})
    assert r.status_code == 422 and "exactly one of preset" in r.text
    body = {"preset": "digits-cnn", "overrides": {"conv": {"conv9": {"kernel": 3}}}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422 and "no layer 'conv9'" in r.json()["detail"]
    body = {"preset": "digits-cnn", "overrides": {"conv": {"conv1": {"kernel": 7, "padding": 0}}}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422 and "does not fit" in r.json()["detail"]


def test_lab_paths_flag_divergence_and_unknown_surfaces(client):
    body = {"surface": "bowl", "start": [-4.5, 2.0], "steps": 100,
            "runs": [{"lr": 0.001}, {"lr": 0.05}, {"lr": 0.099}, {"lr": 0.11}]}  # fmt: skip
    paths = client.post("/api/lab/descent", json=body).json()["paths"]
    assert [p["outcome"] for p in paths] == ["slow", "converged", "oscillating", "diverged"]
    assert paths[3]["diverged"] is True and paths[3]["diverged_at"] == len(paths[3]["points"])
    assert client.get("/api/lab/surfaces/nope").status_code == 404
    r = client.post("/api/lab/descent", json={**body, "surface": "nope"})
    assert r.status_code == 422 and "bowl" in r.json()["detail"]
    names = [s["name"] for s in client.get("/api/lab/surfaces").json()]
    assert names == ["bowl", "rosenbrock", "local-minima", "saddle", "monkey-saddle"]
    g = client.get("/api/lab/surfaces/saddle?resolution=16").json()["grid"]
    assert np.array(g["values"]).shape == (16, 16)


COMPARE = {"dataset": "xor", "hidden": [3], "epochs": 1}


def _app_with_env(monkeypatch, tmp_path, **env):
    """An app whose limits are read from GLASSBOX_LIMIT_* variables, as a deployment sets them."""
    for name, value in env.items():
        monkeypatch.setenv(f"GLASSBOX_LIMIT_{name.upper()}", str(value))
    return TestClient(create_app(Settings(data_dir=tmp_path)))


def test_compare_batch_size_follows_glassbox_limit_max_batch(monkeypatch, tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        body = {**COMPARE, "lrs": [0.1], "batch_size": 65}
        _limit(c.post("/api/bp/compare", json=body), "max_batch", 64, 65)
    with _app_with_env(monkeypatch, tmp_path, max_batch=100) as c:
        body = {**COMPARE, "lrs": [0.1], "batch_size": 80}
        r = c.post("/api/bp/compare", json=body)
        assert r.status_code == 200, r.text
        _limit(c.post("/api/bp/compare", json={**body, "batch_size": 101}), "max_batch", 100, 101)
        prop = c.get("/openapi.json").json()["components"]["schemas"]["BPCompare"]["properties"]
        assert prop["batch_size"]["maximum"] == 100


def test_compare_runs_follow_glassbox_limit_max_compare_runs(monkeypatch, tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        assert c.get("/api/rules").json()["bp"]["max_compare_runs"] == 6
        r = c.post("/api/bp/compare", json={**COMPARE, "lrs": [0.1] * 7})
        _limit(r, "max_compare_runs", 6, 7)
    with _app_with_env(monkeypatch, tmp_path, max_compare_runs=8) as c:
        lrs = [0.01 * (k + 1) for k in range(8)]
        r = c.post("/api/bp/compare", json={**COMPARE, "lrs": lrs})
        assert r.status_code == 200, r.text
        assert [run["lr"] for run in r.json()["runs"]] == lrs
        _limit(c.post("/api/bp/compare", json={**COMPARE, "lrs": [0.1] * 9}),
               "max_compare_runs", 8, 9)  # fmt: skip
        assert c.get("/api/rules").json()["bp"]["max_compare_runs"] == 8
        prop = c.get("/openapi.json").json()["components"]["schemas"]["BPCompare"]["properties"]
        assert prop["lrs"]["maxItems"] == 8
